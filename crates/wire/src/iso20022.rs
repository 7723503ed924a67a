//! ISO 20022 credit transfers for payment screening: pacs.008 (`FIToFICstmrCdtTrf`, versions
//! .001.08 to .001.13, [`PACS008_VERSIONS`]) between banks, and pain.001 (`CstmrCdtTrfInitn`,
//! .001.03 and .001.09) from customers. One streaming pass (quick-xml) picks out, per transaction, what the rules
//! need: end-to-end id, amount and currency, debtor and creditor IBAN, creditor name, the
//! instant flag (local instrument `INST`) and the time. A message that is not well-formed XML,
//! or not one of these messages, is refused as a whole; a transaction that lacks a required
//! element gets its own error and the others are still decided.
//!
//! Well-formed means XML 1.0's rules, which the streaming reader alone does not enforce: one
//! root element and nothing but white space, comments and processing instructions around it;
//! only the characters XML allows (no NUL, no other control characters but tab, line feed and
//! carriage return), also when written as a character reference (`&#0;` is refused).

use quick_xml::Reader;
use quick_xml::events::Event;

/// The most transactions one message may carry.
pub const MAX_TRANSACTIONS: usize = 1_000;

/// The pacs.008 versions read (the rules are tested against 08; later versions keep the
/// elements read here where they were).
pub const PACS008_VERSIONS: [&str; 6] = ["08", "09", "10", "11", "12", "13"];
/// The pain.001 versions read.
pub const PAIN001_VERSIONS: [&str; 2] = ["03", "09"];

/// XML 1.0's `Char` production: what may appear in a document at all.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Which message a document is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageKind {
    /// pacs.008 with its version (`pacs.008.001.08`).
    Pacs008(String),
    /// pain.001 with its version (`pain.001.001.03`).
    Pain001(String),
}

impl MessageKind {
    pub fn name(&self) -> &str {
        match self {
            MessageKind::Pacs008(v) | MessageKind::Pain001(v) => v,
        }
    }
}

/// Why a message as a whole cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("the message is not well-formed XML: {0}")]
    Malformed(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("the message holds more than {MAX_TRANSACTIONS} transactions")]
    TooMany,
}

/// One transaction as found in the message; `None` where an element is missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawTransaction {
    /// 0-based position in the message.
    pub index: usize,
    pub end_to_end_id: Option<String>,
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub debtor_iban: Option<String>,
    pub creditor_iban: Option<String>,
    pub creditor_name: Option<String>,
    pub instant: bool,
    /// The transaction's acceptance time, or the message's creation time.
    pub at: Option<String>,
}

impl RawTransaction {
    /// The path of a transaction's element, for error messages (`CdtTrfTxInf[2]/PmtId/EndToEndId`).
    pub fn path(&self, element: &str) -> String {
        format!("CdtTrfTxInf[{}]/{element}", self.index)
    }
}

/// A parsed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: MessageKind,
    pub message_id: Option<String>,
    pub transactions: Vec<RawTransaction>,
}

const NS_PREFIX: &str = "urn:iso:std:iso:20022:tech:xsd:";

/// The message kind a namespace names, if it is one Vangnet reads.
fn kind_of(namespace: &str) -> Result<MessageKind, MessageError> {
    let Some(name) = namespace.strip_prefix(NS_PREFIX) else {
        return Err(MessageError::Unsupported(format!(
            "the namespace `{namespace}` is not an ISO 20022 message namespace"
        )));
    };
    if let Some(version) = name.strip_prefix("pacs.008.001.") {
        if PACS008_VERSIONS.contains(&version) {
            return Ok(MessageKind::Pacs008(name.to_owned()));
        }
    } else if let Some(version) = name.strip_prefix("pain.001.001.")
        && PAIN001_VERSIONS.contains(&version)
    {
        return Ok(MessageKind::Pain001(name.to_owned()));
    }
    Err(MessageError::Unsupported(format!(
        "`{name}` is not supported: send pacs.008.001.08 to pacs.008.001.13, pain.001.001.03 or pain.001.001.09"
    )))
}

// Element tags the parser follows; everything else is 0.
const OTHER: u8 = 0;
const DOCUMENT: u8 = 1;
const PACS_ROOT: u8 = 2;
const PAIN_ROOT: u8 = 3;
const GRP_HDR: u8 = 4;
const MSG_ID: u8 = 5;
const CRE_DT_TM: u8 = 6;
const PMT_INF: u8 = 7;
const TX: u8 = 8;
const PMT_ID: u8 = 9;
const END_TO_END_ID: u8 = 10;
const SETTLEMENT_AMT: u8 = 11;
const AMT: u8 = 12;
const INSTD_AMT: u8 = 13;
const DBTR_ACCT: u8 = 14;
const CDTR_ACCT: u8 = 15;
const ID: u8 = 16;
const IBAN: u8 = 17;
const CDTR: u8 = 18;
const NM: u8 = 19;
const PMT_TP_INF: u8 = 20;
const LCL_INSTRM: u8 = 21;
const CD: u8 = 22;
const ACCPTNC_DT_TM: u8 = 23;

fn tag(local: &[u8]) -> u8 {
    match local {
        b"Document" => DOCUMENT,
        b"FIToFICstmrCdtTrf" => PACS_ROOT,
        b"CstmrCdtTrfInitn" => PAIN_ROOT,
        b"GrpHdr" => GRP_HDR,
        b"MsgId" => MSG_ID,
        b"CreDtTm" => CRE_DT_TM,
        b"PmtInf" => PMT_INF,
        b"CdtTrfTxInf" => TX,
        b"PmtId" => PMT_ID,
        b"EndToEndId" => END_TO_END_ID,
        b"IntrBkSttlmAmt" => SETTLEMENT_AMT,
        b"Amt" => AMT,
        b"InstdAmt" => INSTD_AMT,
        b"DbtrAcct" => DBTR_ACCT,
        b"CdtrAcct" => CDTR_ACCT,
        b"Id" => ID,
        b"IBAN" => IBAN,
        b"Cdtr" => CDTR,
        b"Nm" => NM,
        b"PmtTpInf" => PMT_TP_INF,
        b"LclInstrm" => LCL_INSTRM,
        b"Cd" => CD,
        b"AccptncDtTm" => ACCPTNC_DT_TM,
        _ => OTHER,
    }
}

fn ends_with(stack: &[u8], suffix: &[u8]) -> bool {
    stack.ends_with(suffix)
}

/// What the element being read holds, by its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    MessageId,
    Created,
    EndToEnd,
    Amount,
    DebtorIban,
    CreditorIban,
    CreditorName,
    Instrument,
    Accepted,
}

fn slot(stack: &[u8]) -> Option<Slot> {
    let s = stack;
    if ends_with(s, &[GRP_HDR, MSG_ID]) {
        Some(Slot::MessageId)
    } else if ends_with(s, &[GRP_HDR, CRE_DT_TM]) {
        Some(Slot::Created)
    } else if ends_with(s, &[TX, PMT_ID, END_TO_END_ID]) {
        Some(Slot::EndToEnd)
    } else if ends_with(s, &[TX, SETTLEMENT_AMT]) || ends_with(s, &[TX, AMT, INSTD_AMT]) {
        Some(Slot::Amount)
    } else if ends_with(s, &[DBTR_ACCT, ID, IBAN]) {
        Some(Slot::DebtorIban)
    } else if ends_with(s, &[TX, CDTR_ACCT, ID, IBAN]) {
        Some(Slot::CreditorIban)
    } else if ends_with(s, &[TX, CDTR, NM]) {
        Some(Slot::CreditorName)
    } else if ends_with(s, &[PMT_TP_INF, LCL_INSTRM, CD]) {
        Some(Slot::Instrument)
    } else if ends_with(s, &[TX, ACCPTNC_DT_TM]) {
        Some(Slot::Accepted)
    } else {
        None
    }
}

/// Values that hold for every transaction of a payment-information block (pain.001) or the
/// whole message.
#[derive(Debug, Default, Clone)]
struct Shared {
    debtor_iban: Option<String>,
    instant: bool,
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let code = name.strip_prefix("#x").map_or_else(
                || name.strip_prefix('#').and_then(|d| d.parse::<u32>().ok()),
                |h| u32::from_str_radix(h, 16).ok(),
            )?;
            char::from_u32(code).filter(|c| is_xml_char(*c))
        }
    }
}

/// Reads a pacs.008 or pain.001 message.
pub fn parse(xml: &str) -> Result<Message, MessageError> {
    if let Some((at, c)) = xml.char_indices().find(|(_, c)| !is_xml_char(*c)) {
        return Err(MessageError::Malformed(format!(
            "the character U+{:04X} at byte {at} is not allowed in XML",
            u32::from(c)
        )));
    }
    let mut reader = Reader::from_str(xml);
    let mut root_closed = false;
    let mut stack: Vec<u8> = Vec::with_capacity(16);
    let mut kind: Option<MessageKind> = None;
    let mut message_id = None;
    let mut created: Option<String> = None;
    let mut group = Shared::default();
    let mut block = Shared::default();
    let mut current: Option<RawTransaction> = None;
    let mut transactions = Vec::new();
    let mut text = String::new();
    let mut reading: Option<Slot> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| MessageError::Malformed(format!("{e} (at byte {})", reader.error_position())))?;
        match event {
            Event::Start(_) | Event::Empty(_) if root_closed => {
                return Err(MessageError::Malformed(format!(
                    "a second root element at byte {}: a document has exactly one",
                    reader.buffer_position()
                )));
            }
            Event::Text(t) if stack.is_empty() && !t.iter().all(u8::is_ascii_whitespace) => {
                return Err(MessageError::Malformed(format!(
                    "text outside the root element at byte {}",
                    reader.buffer_position()
                )));
            }
            Event::Start(e) => {
                let t = tag(e.local_name().as_ref());
                if stack.is_empty() {
                    if t != DOCUMENT {
                        return Err(MessageError::Unsupported("the root element must be `Document`".to_owned()));
                    }
                    let namespace = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == b"xmlns" || a.key.as_ref().starts_with(b"xmlns:"))
                        .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok().map(|v| v.into_owned()))
                        .unwrap_or_default();
                    kind = Some(kind_of(&namespace)?);
                }
                if stack.len() == 1 {
                    let expected = match kind {
                        Some(MessageKind::Pacs008(_)) => PACS_ROOT,
                        _ => PAIN_ROOT,
                    };
                    if t != expected {
                        return Err(MessageError::Unsupported(
                            "the message element does not match the namespace (FIToFICstmrCdtTrf for pacs.008, CstmrCdtTrfInitn for pain.001)"
                                .to_owned(),
                        ));
                    }
                }
                stack.push(t);
                if stack.len() > 64 {
                    return Err(MessageError::Malformed("elements nested more than 64 deep".to_owned()));
                }
                match t {
                    TX => {
                        if transactions.len() >= MAX_TRANSACTIONS {
                            return Err(MessageError::TooMany);
                        }
                        let shared = if stack.contains(&PMT_INF) { &block } else { &group };
                        current = Some(RawTransaction {
                            index: transactions.len(),
                            debtor_iban: shared.debtor_iban.clone(),
                            instant: shared.instant,
                            ..RawTransaction::default()
                        });
                    }
                    PMT_INF => block = Shared::default(),
                    _ => {}
                }
                reading = slot(&stack);
                text.clear();
                if reading == Some(Slot::Amount)
                    && let Some(tx) = current.as_mut()
                {
                    tx.currency = e
                        .try_get_attribute("Ccy")
                        .ok()
                        .flatten()
                        .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok().map(|v| v.into_owned()));
                }
            }
            Event::Empty(_) => {}
            Event::Text(t) if reading.is_some() => {
                text.push_str(&t.decode().map_err(|e| MessageError::Malformed(e.to_string()))?);
            }
            Event::CData(t) if reading.is_some() => {
                text.push_str(&t.decode().map_err(|e| MessageError::Malformed(e.to_string()))?);
            }
            Event::GeneralRef(r) if reading.is_some() => {
                let name = r.decode().map_err(|e| MessageError::Malformed(e.to_string()))?;
                let c = entity(&name).ok_or_else(|| MessageError::Malformed(format!("unknown entity `&{name};`")))?;
                text.push(c);
            }
            Event::End(_) => {
                if let Some(s) = reading.take() {
                    let value = text.trim().to_owned();
                    let in_tx = stack.contains(&TX);
                    let in_block = stack.contains(&PMT_INF);
                    match (s, current.as_mut()) {
                        (Slot::MessageId, _) => message_id = Some(value),
                        (Slot::Created, _) => created = Some(value),
                        (Slot::EndToEnd, Some(tx)) => tx.end_to_end_id = Some(value),
                        (Slot::Amount, Some(tx)) => tx.amount = Some(value),
                        (Slot::DebtorIban, Some(tx)) if in_tx => tx.debtor_iban = Some(value),
                        (Slot::DebtorIban, _) if in_block => block.debtor_iban = Some(value),
                        (Slot::CreditorIban, Some(tx)) => tx.creditor_iban = Some(value),
                        (Slot::CreditorName, Some(tx)) => tx.creditor_name = Some(value),
                        (Slot::Instrument, Some(tx)) if in_tx => tx.instant |= value == "INST",
                        (Slot::Instrument, _) if in_block => block.instant |= value == "INST",
                        (Slot::Instrument, _) => group.instant |= value == "INST",
                        (Slot::Accepted, Some(tx)) => tx.at = Some(value),
                        _ => {}
                    }
                }
                if stack.pop() == Some(TX)
                    && let Some(mut tx) = current.take()
                {
                    if tx.at.is_none() {
                        tx.at.clone_from(&created);
                    }
                    transactions.push(tx);
                }
                root_closed = stack.is_empty();
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(MessageError::Malformed(
            "the document ends before its elements are closed".to_owned(),
        ));
    }
    let kind = kind.ok_or_else(|| MessageError::Unsupported("the document is empty".to_owned()))?;
    Ok(Message {
        kind,
        message_id,
        transactions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn pacs008(version: &str, transactions: &[&str]) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.{version}">
  <FIToFICstmrCdtTrf>
    <GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2026-11-20T10:00:00Z</CreDtTm><NbOfTxs>{n}</NbOfTxs></GrpHdr>
    {txs}
  </FIToFICstmrCdtTrf>
</Document>"#,
            n = transactions.len(),
            txs = transactions.join("\n")
        )
    }

    pub(crate) fn pacs_tx(e2e: &str, amount: &str, debtor: &str, creditor: &str, instant: bool) -> String {
        let inst = if instant {
            "<PmtTpInf><LclInstrm><Cd>INST</Cd></LclInstrm></PmtTpInf>"
        } else {
            ""
        };
        format!(
            r#"<CdtTrfTxInf><PmtId><InstrId>I</InstrId><EndToEndId>{e2e}</EndToEndId></PmtId>{inst}
<IntrBkSttlmAmt Ccy="EUR">{amount}</IntrBkSttlmAmt><ChrgBr>SLEV</ChrgBr>
<Dbtr><Nm>Piet &amp; Co</Nm></Dbtr><DbtrAcct><Id><IBAN>{debtor}</IBAN></Id></DbtrAcct>
<DbtrAgt><FinInstnId><BICFI>ABNANL2A</BICFI></FinInstnId></DbtrAgt><CdtrAgt><FinInstnId><BICFI>INGBNL2A</BICFI></FinInstnId></CdtrAgt>
<Cdtr><Nm>J. Jansen</Nm></Cdtr><CdtrAcct><Id><IBAN>{creditor}</IBAN></Id></CdtrAcct></CdtTrfTxInf>"#
        )
    }

    #[test]
    fn reads_a_pacs008_with_several_transactions() {
        let xml = pacs008(
            "08",
            &[
                &pacs_tx("E2E-1", "250.00", "NL02ABNA0123456789", "NL91ABNA0417164300", false),
                &pacs_tx("E2E-2", "4500", "NL02ABNA0123456789", "NL20INGB0001234567", true),
            ],
        );
        let m = parse(&xml).expect("valid");
        assert_eq!(m.kind, MessageKind::Pacs008("pacs.008.001.08".into()));
        assert_eq!(m.message_id.as_deref(), Some("MSG-1"));
        assert_eq!(m.transactions.len(), 2);
        let t = &m.transactions[1];
        assert_eq!(t.end_to_end_id.as_deref(), Some("E2E-2"));
        assert_eq!((t.amount.as_deref(), t.currency.as_deref()), (Some("4500"), Some("EUR")));
        assert_eq!(t.debtor_iban.as_deref(), Some("NL02ABNA0123456789"));
        assert_eq!(t.creditor_iban.as_deref(), Some("NL20INGB0001234567"));
        assert_eq!(t.creditor_name.as_deref(), Some("J. Jansen"));
        assert!(t.instant && !m.transactions[0].instant);
        assert_eq!(t.at.as_deref(), Some("2026-11-20T10:00:00Z"));
        assert!(parse(&pacs008("13", &[])).is_ok(), "later versions are read too");
    }

    #[test]
    fn reads_pain001_versions_with_the_debtor_per_payment_block() {
        for version in ["03", "09"] {
            let xml = format!(
                r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.{version}"><CstmrCdtTrfInitn>
<GrpHdr><MsgId>P-1</MsgId><CreDtTm>2026-11-20T09:00:00</CreDtTm><NbOfTxs>2</NbOfTxs><InitgPty><Nm>X</Nm></InitgPty></GrpHdr>
<PmtInf><PmtInfId>B1</PmtInfId><PmtMtd>TRF</PmtMtd><PmtTpInf><LclInstrm><Cd>INST</Cd></LclInstrm></PmtTpInf>
<Dbtr><Nm>Oma</Nm></Dbtr><DbtrAcct><Id><IBAN>NL02ABNA0123456789</IBAN></Id></DbtrAcct>
<CdtTrfTxInf><PmtId><EndToEndId>A</EndToEndId></PmtId><Amt><InstdAmt Ccy="EUR">10.00</InstdAmt></Amt>
<CdtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></CdtrAcct></CdtTrfTxInf>
<CdtTrfTxInf><PmtId><EndToEndId>B</EndToEndId></PmtId><Amt><InstdAmt Ccy="EUR">20.00</InstdAmt></Amt>
<CdtrAcct><Id><IBAN>NL20INGB0001234567</IBAN></Id></CdtrAcct></CdtTrfTxInf>
</PmtInf></CstmrCdtTrfInitn></Document>"#
            );
            let m = parse(&xml).expect("valid");
            assert_eq!(m.kind, MessageKind::Pain001(format!("pain.001.001.{version}")));
            assert_eq!(m.transactions.len(), 2);
            assert!(
                m.transactions
                    .iter()
                    .all(|t| t.instant && t.debtor_iban.as_deref() == Some("NL02ABNA0123456789"))
            );
            assert_eq!(m.transactions[1].amount.as_deref(), Some("20.00"));
        }
    }

    #[test]
    fn bad_messages_are_refused_and_missing_elements_left_empty() {
        assert!(matches!(parse("<Document"), Err(MessageError::Malformed(_))));
        assert!(matches!(
            parse("<Document><FIToFICstmrCdtTrf></Document>"),
            Err(MessageError::Malformed(_)) | Err(MessageError::Unsupported(_))
        ));
        let wrong = pacs008("08", &[]).replace("pacs.008.001.08", "pacs.008.001.02");
        assert!(matches!(parse(&wrong), Err(MessageError::Unsupported(m)) if m.contains("pacs.008.001.02")));
        let other = pacs008("08", &[]).replace("urn:iso:std:iso:20022:tech:xsd:", "urn:example:");
        assert!(matches!(parse(&other), Err(MessageError::Unsupported(_))));
        let mismatch = pacs008("08", &[]).replace("FIToFICstmrCdtTrf", "CstmrCdtTrfInitn");
        assert!(matches!(parse(&mismatch), Err(MessageError::Unsupported(_))));
        let no_e2e = pacs_tx("X", "1.00", "NL02ABNA0123456789", "NL91ABNA0417164300", false).replace("<EndToEndId>X</EndToEndId>", "");
        let m = parse(&pacs008(
            "08",
            &[&no_e2e, &pacs_tx("Y", "2.00", "NL02ABNA0123456789", "NL91ABNA0417164300", false)],
        ))
        .expect("readable");
        assert_eq!(m.transactions[0].end_to_end_id, None);
        assert_eq!(m.transactions[1].end_to_end_id.as_deref(), Some("Y"));
        let many: Vec<String> = (0..=MAX_TRANSACTIONS)
            .map(|i| pacs_tx(&i.to_string(), "1", "NL02ABNA0123456789", "NL91ABNA0417164300", false))
            .collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(parse(&pacs008("08", &refs)), Err(MessageError::TooMany));
    }

    /// The probe: a second root element, a raw NUL and `&#0;` were read, and any pacs.008 with
    /// a version of 08 or more (`.99`) was taken for a supported one.
    #[test]
    fn what_is_not_xml_is_refused() {
        let tx = pacs_tx("E2E-1", "1.00", "NL02ABNA0123456789", "NL91ABNA0417164300", false);
        let good = pacs008("08", &[&tx]);
        assert!(parse(&good).is_ok());
        let second_root = format!("{good}<Document/>");
        assert!(matches!(parse(&second_root), Err(MessageError::Malformed(m)) if m.contains("second root")));
        let second_root = format!("{good}<Other>x</Other>");
        assert!(matches!(parse(&second_root), Err(MessageError::Malformed(_))));
        assert!(matches!(parse(&format!("{good} trailing text")), Err(MessageError::Malformed(m)) if m.contains("outside")));
        assert!(
            parse(&format!("{good}\n<!-- a comment -->\n")).is_ok(),
            "white space and comments after the root are fine"
        );
        let nul = good.replace("E2E-1", "E2E\u{0}1");
        assert!(matches!(parse(&nul), Err(MessageError::Malformed(m)) if m.contains("U+0000")));
        let bell = good.replace("E2E-1", "E2E\u{7}1");
        assert!(matches!(parse(&bell), Err(MessageError::Malformed(_))));
        for reference in ["&#0;", "&#x0;", "&#x1F;", "&#xFFFE;", "&#55296;"] {
            let refd = good.replace("E2E-1", &format!("E2E{reference}1"));
            assert!(matches!(parse(&refd), Err(MessageError::Malformed(_))), "{reference}");
        }
        assert_eq!(
            parse(&good.replace("E2E-1", "E2E&#x41;1"))
                .expect("a letter by reference")
                .transactions[0]
                .end_to_end_id
                .as_deref(),
            Some("E2EA1")
        );
        for version in ["99", "14", "8", "008", "07"] {
            let xml = pacs008("08", &[&tx]).replace("pacs.008.001.08", &format!("pacs.008.001.{version}"));
            assert!(
                matches!(parse(&xml), Err(MessageError::Unsupported(m)) if m.contains("pacs.008.001.08 to pacs.008.001.13")),
                "{version}"
            );
        }
        for version in PACS008_VERSIONS {
            assert!(parse(&pacs008(version, &[&tx])).is_ok(), "{version}");
        }
    }
}
