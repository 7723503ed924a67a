//! `vangnet mules`: money-mule pattern detection over transaction files in the IBM AMLworld
//! form: `generate` a synthetic data set, `detect` (flag every transaction, as the server
//! does), `evaluate` (precision and recall against the file's labels, with thresholds tuned on
//! the first 60% of its time and reported on the rest).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use vangnet_core::mules::{Flag, Monitor};

use crate::amlworld::{self, HEADER, Reader};
use crate::config::{Config, MulesConfig};
use crate::synth_mules::{Attempt, Book, DAY_MINUTES, FORMATS, Profile, Row, World};

#[derive(Debug, Args)]
pub struct MulesArgs {
    #[command(subcommand)]
    command: MulesCommand,
}

/// Input formats `detect` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// IBM AMLworld's transactions CSV (`Timestamp,From Bank,Account,To Bank,Account,…`).
    Amlworld,
}

#[derive(Debug, Subcommand)]
enum MulesCommand {
    /// Write a synthetic data set in the AMLworld form: DIR/trans.csv (background activity
    /// with injected laundering at AMLworld's HI or LI illicit rate) and DIR/patterns.txt (the
    /// attempts, as AMLworld's *_Patterns.txt lists them). THIS IS NOT THE REAL AMLWORLD DATA:
    /// its activity model is much simpler, so figures on it are not comparable one to one.
    Generate {
        /// The directory to write to (created when missing).
        #[arg(long)]
        out: PathBuf,
        /// The illicit rate: hi (1 in 981, as HI-Small) or li (1 in 1,942, as LI-Small).
        #[arg(long, value_enum, default_value_t = Profile::Hi)]
        profile: Profile,
        /// Transactions to write (AMLworld's small sets hold 5 to 7 million, HI-Medium 32).
        #[arg(long, default_value_t = 5_000_000)]
        transactions: u64,
        /// Seed; the same seed writes the same files.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Run every detector over a transactions file in time order, as a stream (each
    /// transaction judged on what came before it), and write one line per transaction in input
    /// order: `row,flagged,pattern,score` (row: 1-based data line). The Is Laundering column is
    /// never read; the thresholds are the configuration's [mules] section. Lines that cannot be
    /// read are skipped and counted (their rows are missing from the output) and named by line
    /// number on standard error.
    Detect {
        /// The transactions file.
        file: PathBuf,
        /// Its format.
        #[arg(long, value_enum, default_value_t = Format::Amlworld)]
        format: Format,
        /// Where to write the flags (`-`: standard output).
        #[arg(long)]
        out: PathBuf,
    },
    /// Precision, recall and minority-class F1 from the file's Is Laundering labels, overall
    /// and per pattern: thresholds tuned on the first 60% of the file's time range (the first
    /// 20% warming the detectors up, not counted), reported on the last 40% (the detectors run
    /// over the whole file, in order, either way).
    Evaluate {
        /// The transactions file (AMLworld form, with Is Laundering).
        file: PathBuf,
        /// The attempts listing (AMLworld's *_Patterns.txt form), for recall per typology.
        #[arg(long)]
        patterns: Option<PathBuf>,
        /// Report the configured thresholds only, without tuning.
        #[arg(long)]
        no_tune: bool,
    },
}

pub async fn run(config: &Config, args: MulesArgs) -> anyhow::Result<ExitCode> {
    let mules = config.mules.clone();
    tokio::task::spawn_blocking(move || match args.command {
        MulesCommand::Generate {
            out,
            profile,
            transactions,
            seed,
        } => generate(&out, profile, transactions, seed),
        MulesCommand::Detect { file, format: _, out } => detect(&mules, &file, &out),
        MulesCommand::Evaluate { file, patterns, no_tune } => super::mules_evaluate::run(&mules, &file, patterns.as_deref(), !no_tune),
    })
    .await?
}

fn generate(dir: &Path, profile: Profile, transactions: u64, seed: u64) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let create = |name: &str| -> anyhow::Result<std::io::BufWriter<std::fs::File>> {
        let path = dir.join(name);
        let file = std::fs::File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(std::io::BufWriter::with_capacity(1 << 20, file))
    };
    let mut trans = create("trans.csv")?;
    let mut patterns = create("patterns.txt")?;
    writeln!(trans, "{HEADER}")?;
    let bar = super::progress(Some(transactions), "generating transactions");
    let mut world = World::new(profile, transactions, seed);
    let mut dates = DateCache::default();
    let mut attempt_dates = DateCache::default();
    let (mut written, mut illicit, mut attempts) = (0u64, 0u64, 0u64);
    let failure: std::cell::RefCell<Option<std::io::Error>> = std::cell::RefCell::new(None);
    let mut line = String::with_capacity(160);
    world.generate(
        |book, row| {
            if failure.borrow().is_some() {
                return;
            }
            line.clear();
            format_row(book, row, &mut dates, &mut line);
            line.push('\n');
            if let Err(e) = trans.write_all(line.as_bytes()) {
                *failure.borrow_mut() = Some(e);
            }
            written += 1;
            illicit += u64::from(row.laundering);
            if written.is_multiple_of(65_536) {
                bar.set_position(written);
            }
        },
        |book, attempt| {
            attempts += 1;
            if failure.borrow().is_none()
                && let Err(e) = write_attempt(book, attempt, &mut attempt_dates, &mut patterns)
            {
                *failure.borrow_mut() = Some(e);
            }
        },
    );
    if let Some(e) = failure.into_inner() {
        return Err(e).context("cannot write the data set");
    }
    trans.flush()?;
    patterns.flush()?;
    bar.finish_and_clear();
    println!(
        "Wrote {written} transactions ({illicit} laundering, in {attempts} attempts) to {}, and the attempts to {}.",
        dir.join("trans.csv").display(),
        dir.join("patterns.txt").display()
    );
    println!("Synthetic data in the AMLworld form, not the AMLworld data itself.");
    Ok(ExitCode::SUCCESS)
}

/// Formats times as AMLworld does, one date string per day.
#[derive(Default)]
pub struct DateCache {
    day: Option<u32>,
    text: String,
}

impl DateCache {
    fn date(&mut self, minute: u32) -> &str {
        let day = minute / DAY_MINUTES;
        if self.day != Some(day) {
            let base = amlworld::days_from_civil(2022, 9, 1);
            let (y, m, d) = amlworld::civil_from_days(base + i64::from(day));
            self.text = format!("{y:04}/{m:02}/{d:02}");
            self.day = Some(day);
        }
        &self.text
    }
}

pub fn format_row(book: &Book, r: &Row, dates: &mut DateCache, out: &mut String) {
    use std::fmt::Write as _;
    let minute = r.minute % DAY_MINUTES;
    let money = |cents: i64| format!("{}.{:02}", cents / 100, cents % 100);
    let _ = write!(
        out,
        "{} {:02}:{:02},{:03},{:09X},{:03},{:09X},{},{},{},{},{},{}",
        dates.date(r.minute),
        minute / 60,
        minute % 60,
        book.bank(r.from),
        Book::number(r.from),
        book.bank(r.to),
        Book::number(r.to),
        money(r.received),
        book.currency(r.to),
        money(r.paid),
        book.currency(r.from),
        FORMATS[usize::from(r.format)],
        u8::from(r.laundering),
    );
}

fn write_attempt(book: &Book, a: &Attempt, dates: &mut DateCache, out: &mut impl Write) -> std::io::Result<()> {
    let name = a.typology.amlworld_name();
    if a.detail.is_empty() {
        writeln!(out, "BEGIN LAUNDERING ATTEMPT - {name}")?;
    } else {
        writeln!(out, "BEGIN LAUNDERING ATTEMPT - {name}:  {}", a.detail)?;
    }
    let mut line = String::with_capacity(160);
    for r in &a.rows {
        line.clear();
        format_row(book, r, dates, &mut line);
        writeln!(out, "{line}")?;
    }
    writeln!(out, "END LAUNDERING ATTEMPT - {name}")?;
    writeln!(out)
}

fn detect(mules: &MulesConfig, file: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let thresholds = mules.thresholds()?;
    let input = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let size = input.metadata().map(|m| m.len()).ok();
    let input = super::ProgressRead::new(input, size, "detecting");
    let sink: Box<dyn Write> = if out == Path::new("-") {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?)
    };
    let started = Instant::now();
    let mut monitor = Monitor::new(thresholds);
    let summary =
        detect_stream(&mut monitor, input, sink, &mut std::io::stderr()).with_context(|| format!("cannot read {}", file.display()))?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{} transactions in {secs:.1} s ({:.0}/s), {} flagged, {} lines skipped; {} accounts in the window, {} evicted; peak memory {}",
        summary.rows,
        summary.rows as f64 / secs.max(1e-9),
        summary.flagged,
        summary.skipped,
        monitor.detector().window().accounts(),
        monitor.detector().window().evicted(),
        super::peak_rss().map_or_else(|| "unknown".to_owned(), |kib| format!("{} MiB", kib / 1_024)),
    );
    Ok(ExitCode::SUCCESS)
}

/// What one `detect` run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub rows: u64,
    pub flagged: u64,
    pub skipped: u64,
}

/// Reads AMLworld lines from `input`, writes a verdict line per readable one to `out`, names
/// the first unreadable ones on `errors` by line number.
pub fn detect_stream(
    monitor: &mut Monitor,
    input: impl std::io::Read,
    out: impl Write,
    errors: &mut impl Write,
) -> anyhow::Result<Summary> {
    let mut reader = Reader::new(input, false)?;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, out);
    writeln!(writer, "row,flagged,pattern,score")?;
    let mut flags: Vec<Flag> = Vec::new();
    let mut summary = Summary::default();
    while let Some(line) = reader.next_line() {
        let row = reader.rows();
        match line {
            Ok(line) => {
                summary.rows += 1;
                flags.clear();
                match monitor.observe(&line.transfer, &mut flags) {
                    Some(v) => {
                        summary.flagged += 1;
                        writeln!(writer, "{row},1,{},{:.3}", v.pattern.as_str(), v.score)?;
                    }
                    None => writeln!(writer, "{row},0,,0")?,
                }
            }
            Err(e) => {
                summary.skipped += 1;
                if summary.skipped <= super::NAMED_ERRORS {
                    writeln!(errors, "skipped {e}")?;
                }
            }
        }
    }
    if summary.skipped > super::NAMED_ERRORS {
        writeln!(errors, "… and {} more lines skipped", summary.skipped - super::NAMED_ERRORS)?;
    }
    writer.flush()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vangnet_core::mules::Thresholds;

    #[test]
    fn detect_flags_in_input_order_and_skips_bad_lines_by_number() {
        let mut text = format!("{HEADER}\n");
        // Six new payers send 900 dollars each to one account within hours: a fan-in at the
        // sixth. A bad line sits among them.
        for i in 0..6 {
            text.push_str(&format!(
                "2022/09/01 0{i}:00,010,80000000{i},020,8000000FF,900.00,US Dollar,900.00,US Dollar,ACH,0\n"
            ));
            if i == 2 {
                text.push_str("2022/09/01 02:30,010,800000009,020,8000000FF,much,US Dollar,1.00,US Dollar,ACH,0\n");
                text.push_str("not,a,transaction\n");
            }
        }
        let mut out = Vec::new();
        let mut errors = Vec::new();
        let mut monitor = Monitor::new(Thresholds::default());
        let summary = detect_stream(&mut monitor, text.as_bytes(), &mut out, &mut errors).expect("runs");
        assert_eq!(
            summary,
            Summary {
                rows: 6,
                flagged: 1,
                skipped: 2
            }
        );
        let out = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "row,flagged,pattern,score");
        let rows: Vec<&str> = lines[1..].iter().map(|l| l.split(',').next().unwrap_or("")).collect();
        assert_eq!(
            rows,
            ["1", "2", "3", "6", "7", "8"],
            "the bad rows 4 and 5 are missing, the rest in order"
        );
        assert!(lines[6].starts_with("8,1,fan_in,"), "{}", lines[6]);
        assert!(lines[1..6].iter().all(|l| l.contains(",0,,")));
        let errors = String::from_utf8(errors).expect("utf-8");
        assert!(errors.contains("line 5: invalid_amount (Amount Received)"), "{errors}");
        assert!(errors.contains("line 6: too_few_fields"), "{errors}");
    }

    #[test]
    fn a_generated_world_is_read_back_whole_with_its_attempts_listed() {
        let dir = tempfile::tempdir().expect("tempdir");
        generate(dir.path(), Profile::Li, 20_000, 5).expect("generates");
        let trans = std::fs::read_to_string(dir.path().join("trans.csv")).expect("trans.csv");
        let patterns = std::fs::read_to_string(dir.path().join("patterns.txt")).expect("patterns.txt");
        let mut reader = Reader::new(trans.as_bytes(), true).expect("header");
        let (mut rows, mut laundering) = (0u64, 0u64);
        while let Some(line) = reader.next_line() {
            let line = line.expect("every generated line reads");
            rows += 1;
            laundering += u64::from(line.laundering);
        }
        assert!((19_000..=21_000).contains(&rows), "{rows}");
        let listed = patterns
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with("BEGIN") && !l.starts_with("END"))
            .count() as u64;
        assert_eq!(listed, laundering, "every laundering line is in an attempt");
        assert!(patterns.starts_with("BEGIN LAUNDERING ATTEMPT - "));
        for l in patterns.lines().filter(|l| l.contains(",1") && !l.starts_with("BEGIN")) {
            assert!(trans.contains(l), "{l} is in trans.csv");
        }
    }
}
