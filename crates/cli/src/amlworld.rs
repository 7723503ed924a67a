//! Transactions in the IBM AMLworld CSV form:
//!
//! ```text
//! Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,Amount Paid,Payment Currency,Payment Format,Is Laundering
//! 2022/09/01 00:20,010,8000EBD30,010,8000EBD30,3697.34,US Dollar,3697.34,US Dollar,Reinvestment,0
//! ```
//!
//! An account is its bank and number; the reader turns each into a 64-bit key (a hash of both,
//! the same for every appearance; two of the few million accounts of a file sharing one is
//! about as likely as a one in ten million chance). `Amount Paid` is in the payer's currency
//! and `Amount Received` in the payee's; the reader turns both into US dollar cents at the
//! rates the file itself shows (each transaction that changes currency gives one; a currency
//! not yet seen beside the dollar counts one to one), learning as it reads, never ahead. The
//! reader never looks at `Is Laundering` unless asked for the labels.

use vangnet_core::mules::Transfer;

/// The header AMLworld files start with.
pub const HEADER: &str = "Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,Amount Paid,Payment Currency,Payment Format,Is Laundering";

/// Why a line could not be read: the field it concerns and a stable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The line in the file (1-based, the header is line 1).
    pub line: u64,
    pub field: &'static str,
    pub code: &'static str,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {} ({})", self.line, self.code, self.field)
    }
}

/// One transaction read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    pub transfer: Transfer,
    /// `Is Laundering`, when the labels were asked for.
    pub laundering: bool,
}

/// Reads `Line`s from any reader, one record at a time.
pub struct Reader<R: std::io::Read> {
    csv: csv::Reader<R>,
    record: csv::ByteRecord,
    labels: bool,
    /// Data records read so far (good and bad).
    rows: u64,
    rates: Rates,
}

/// Units of each currency per US dollar, as learned from the file.
#[derive(Debug, Default)]
struct Rates {
    known: Vec<(Vec<u8>, f64)>,
}

const DOLLAR: &[u8] = b"US Dollar";

impl Rates {
    fn get(&self, currency: &[u8]) -> Option<f64> {
        if currency == DOLLAR {
            return Some(1.0);
        }
        self.known.iter().find(|(c, _)| c == currency).map(|(_, r)| *r)
    }

    fn set(&mut self, currency: &[u8], rate: f64) {
        if currency == DOLLAR || !rate.is_finite() || rate <= 0.0 {
            return;
        }
        if let Some((_, r)) = self.known.iter_mut().find(|(c, _)| c == currency) {
            *r = 0.9 * *r + 0.1 * rate;
        } else if self.known.len() < 1_000 {
            self.known.push((currency.to_vec(), rate));
        }
    }

    /// Learns from a transaction paying `paid` in `pay` for `received` in `recv`.
    fn learn(&mut self, pay: &[u8], paid: i64, recv: &[u8], received: i64) {
        if pay == recv || paid <= 0 || received <= 0 {
            return;
        }
        let ratio = received as f64 / paid as f64;
        match (self.get(pay), self.get(recv)) {
            (Some(p), _) => self.set(recv, p * ratio),
            (None, Some(r)) => self.set(pay, r / ratio),
            (None, None) => {}
        }
    }

    /// `amount` of `currency` in dollar cents.
    fn dollars(&self, currency: &[u8], amount: i64) -> i64 {
        match self.get(currency) {
            Some(r) if r != 1.0 => (amount as f64 / r).round() as i64,
            _ => amount,
        }
    }
}

impl<R: std::io::Read> Reader<R> {
    /// A reader; `labels` also reads `Is Laundering`. Fails when the header is not AMLworld's.
    pub fn new(input: R, labels: bool) -> anyhow::Result<Reader<R>> {
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .buffer_capacity(1 << 20)
            .from_reader(input);
        let header = csv.byte_headers()?.clone();
        let names: Vec<&[u8]> = header.iter().collect();
        let expected: Vec<&[u8]> = HEADER.as_bytes().split(|b| *b == b',').collect();
        if names.len() < 10 || names[..10] != expected[..10] {
            anyhow::bail!("not an AMLworld transactions file: the header must be {HEADER}");
        }
        if labels && names.len() < 11 {
            anyhow::bail!("the file has no Is Laundering column");
        }
        Ok(Reader {
            csv,
            record: csv::ByteRecord::new(),
            labels,
            rows: 0,
            rates: Rates::default(),
        })
    }

    /// Data records read so far, good and bad: the `row` of the last one.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The fields of the last record read, for matching it with a pattern listing.
    pub fn record(&self) -> &csv::ByteRecord {
        &self.record
    }

    /// The next line: `None` at the end, `Some(Err)` for a line that cannot be read (the
    /// reader goes on with the next one).
    pub fn next_line(&mut self) -> Option<Result<Line, LineError>> {
        let line = self.csv.position().line() + 1;
        match self.csv.read_byte_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => {
                self.rows += 1;
                let line = self.record.position().map_or(line, |p| p.line());
                Some(parse(&self.record, self.labels, line).map(|mut l| {
                    let (pay, recv) = (&self.record[8], &self.record[6]);
                    self.rates.learn(pay, l.transfer.amount, recv, l.transfer.received);
                    l.transfer.amount = self.rates.dollars(pay, l.transfer.amount);
                    l.transfer.received = self.rates.dollars(recv, l.transfer.received);
                    l
                }))
            }
            Err(e) => {
                self.rows += 1;
                let line = e.position().map_or(line, |p| p.line());
                Some(Err(LineError {
                    line,
                    field: "line",
                    code: if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                        "not_utf8"
                    } else {
                        "malformed_csv"
                    },
                }))
            }
        }
    }
}

fn parse(r: &csv::ByteRecord, labels: bool, line: u64) -> Result<Line, LineError> {
    let err = |field, code| LineError { line, field, code };
    if r.len() < if labels { 11 } else { 10 } {
        return Err(err("line", "too_few_fields"));
    }
    let at = timestamp(&r[0]).ok_or_else(|| err("Timestamp", "invalid_timestamp"))?;
    let from = account(&r[1], &r[2]).ok_or_else(|| err("From Bank/Account", "missing_account"))?;
    let to = account(&r[3], &r[4]).ok_or_else(|| err("To Bank/Account", "missing_account"))?;
    let received = amount(&r[5]).ok_or_else(|| err("Amount Received", "invalid_amount"))?;
    let amount = amount(&r[7]).ok_or_else(|| err("Amount Paid", "invalid_amount"))?;
    let laundering = if labels {
        match &r[10] {
            b"0" => false,
            b"1" => true,
            _ => return Err(err("Is Laundering", "invalid_label")),
        }
    } else {
        false
    };
    Ok(Line {
        transfer: Transfer {
            at,
            from,
            to,
            amount,
            received,
        },
        laundering,
    })
}

/// `YYYY/MM/DD HH:MM` (seconds allowed) to milliseconds since 1970, UTC.
pub fn timestamp(s: &[u8]) -> Option<i64> {
    let num = |b: &[u8]| -> Option<i64> {
        if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(b.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    };
    if s.len() < 16 || s[4] != b'/' || s[7] != b'/' || s[10] != b' ' || s[13] != b':' {
        return None;
    }
    let (y, m, d) = (num(&s[0..4])?, num(&s[5..7])?, num(&s[8..10])?);
    let (h, min) = (num(&s[11..13])?, num(&s[14..16])?);
    let sec = match s.len() {
        16 => 0,
        19 if s[16] == b':' => num(&s[17..19])?,
        _ => return None,
    };
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) || h > 23 || min > 59 || sec > 59 {
        return None;
    }
    Some(((days_from_civil(y, m, d) * 24 + h) * 60 + min) * 60_000 + sec * 1_000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The key of a bank and account number.
fn account(bank: &[u8], number: &[u8]) -> Option<u64> {
    if number.is_empty() {
        return None;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bank.iter().chain(b"/".iter()).chain(number) {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    // A final mix so that near numbers spread.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    Some(h ^ (h >> 33))
}

/// A non-negative decimal amount in minor units (hundredths), rounded.
pub fn amount(s: &[u8]) -> Option<i64> {
    let (int, frac) = match s.iter().position(|b| *b == b'.') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, &s[..0]),
    };
    let digits = |b: &[u8]| b.iter().all(u8::is_ascii_digit);
    if !int.is_empty() && int.len() <= 15 && digits(int) && digits(frac) {
        let whole = int.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
        let mut cents = whole * 100;
        let f: Vec<i64> = frac.iter().take(3).map(|d| i64::from(d - b'0')).collect();
        cents += f.first().copied().unwrap_or(0) * 10 + f.get(1).copied().unwrap_or(0);
        if f.get(2).is_some_and(|d| *d >= 5) {
            cents += 1;
        }
        return Some(cents);
    }
    // Exponent notation, as some exports write large or tiny amounts.
    let x: f64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    (x.is_finite() && (0.0..1e15).contains(&x)).then(|| (x * 100.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, labels: bool) -> (Vec<Result<Line, LineError>>, u64) {
        let mut r = Reader::new(text.as_bytes(), labels).expect("header");
        let mut out = Vec::new();
        while let Some(l) = r.next_line() {
            out.push(l);
        }
        (out, r.rows())
    }

    #[test]
    fn reads_amlworld_lines_and_names_the_bad_ones_by_line() {
        let text = format!(
            "{HEADER}\n\
             2022/09/01 00:20,010,8000EBD30,010,8000EBD30,3697.34,US Dollar,3697.34,US Dollar,Reinvestment,0\n\
             2022/09/01 00:21,3208,8000F4580,1,8000F5340,0.01,US Dollar,0.01,US Dollar,Cheque,1\n\
             2022/13/01 00:21,3208,8000F4580,1,8000F5340,0.01,US Dollar,0.01,US Dollar,Cheque,0\n\
             2022/09/01 00:22,3208,8000F4580,1,8000F5340,lots,US Dollar,0.01,US Dollar,Cheque,0\n\
             2022/09/01 00:23,3208,8000F4580\n\
             2022/09/02 10:05,1,8000F5340,3208,8000F4580,1.5e3,Euro,1578.95,US Dollar,Wire,0\n"
        );
        let (lines, rows) = read(&text, true);
        assert_eq!(rows, 6);
        let good = lines[0].as_ref().expect("line 2");
        assert_eq!(good.transfer.from, good.transfer.to, "the same bank and account");
        assert_eq!(good.transfer.amount, 369_734);
        assert_eq!(good.transfer.at, 1_661_991_600_000, "2022-09-01T00:20Z");
        assert!(lines[1].as_ref().expect("line 3").laundering);
        let errors: Vec<LineError> = lines.iter().filter_map(|l| l.clone().err()).collect();
        assert_eq!(
            errors,
            [
                LineError {
                    line: 4,
                    field: "Timestamp",
                    code: "invalid_timestamp"
                },
                LineError {
                    line: 5,
                    field: "Amount Received",
                    code: "invalid_amount"
                },
                LineError {
                    line: 6,
                    field: "line",
                    code: "too_few_fields"
                },
            ]
        );
        let last = lines[5].as_ref().expect("line 7");
        // Euro at the rate this line shows: both sides in dollar cents.
        assert_eq!((last.transfer.received, last.transfer.amount), (157_895, 157_895));
        assert_eq!(last.transfer.to, lines[1].as_ref().expect("line 3").transfer.from);
    }

    #[test]
    fn the_label_is_not_read_unless_asked_for() {
        let text = format!("{HEADER}\n2022/09/01 00:20,010,8000EBD30,011,8000EBD31,1.00,Euro,1.00,Euro,ACH,maybe\n");
        assert!(read(&text, false).0[0].is_ok());
        assert_eq!(read(&text, true).0[0].clone().err().map(|e| e.code), Some("invalid_label"));
        assert!(Reader::new("a,b,c\n".as_bytes(), false).is_err());
    }

    #[test]
    fn dates_round_trip() {
        for day in [-1_000, 0, 19_236, 19_600, 60_000] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(civil_from_days(19_236), (2022, 9, 1));
        assert_eq!(timestamp(b"2024/02/30 00:00"), None);
        assert_eq!(timestamp(b"2024/02/29 23:59:59"), Some(1_709_251_199_000));
        assert_eq!(amount(b"12.345"), Some(1_235));
        assert_eq!(amount(b"-1"), None);
        assert_eq!(amount(b""), None);
    }
}
