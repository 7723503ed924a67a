//! Realistic synthetic fraud reports, for the demo and the benchmarks.
//!
//! The mix follows what Dutch reporting points see: marketplace fraud is about 60% of
//! reports with a typical loss around EUR 250; bank-helpdesk fraud is rarer but costs
//! thousands; investment and romance fraud are rarer still and cost the most. Mule IBANs
//! recur across many reports, and a few networks share phone numbers and accounts, so the
//! registry has the structure real data has. Every identifier is valid (IBAN check digits and
//! Dutch account 11-test, libphonenumber-valid numbers, registrable domains) and entirely
//! made up. Generation is deterministic for a seed.

use serde_json::{Value, json};
use vangnet_core::Indicator;
use vangnet_core::indicator::{IndicatorKind, iban_check_digits};
use vangnet_core::partner::PartnerKind;
use vangnet_core::report::{AgeBand, Channel, FraudType, IndicatorRole, Tlp};
use vangnet_core::timestamp::DAY_MILLIS;
use vangnet_core::{Currency, Money, Timestamp};

/// A small, fast, deterministic random generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A float in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// An item chosen with the given relative weights.
    pub fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut at = self.below(total);
        for (item, w) in items {
            if at < u64::from(*w) {
                return item;
            }
            at -= u64::from(*w);
        }
        &items[items.len() - 1].0
    }

    /// A log-normal amount with the given median and spread.
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        // Box–Muller.
        let u1 = self.unit().max(1e-12);
        let u2 = self.unit();
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        median * (sigma * z).exp()
    }

    pub fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
    }
}

/// The demo partner organisations.
pub const DEMO_PARTNERS: &[(&str, PartnerKind)] = &[
    ("Politie (demo)", PartnerKind::Police),
    ("Fraudehelpdesk (demo)", PartnerKind::Helpdesk),
    ("Noorderbank (demo)", PartnerKind::Bank),
    ("Zuiderbank (demo)", PartnerKind::Bank),
    ("Betaalpunt (demo)", PartnerKind::Psp),
    ("Belnet (demo)", PartnerKind::Telecom),
    ("Marktplein (demo)", PartnerKind::Marketplace),
    ("Slachtofferhulp (demo)", PartnerKind::VictimSupport),
    ("Beheer (demo)", PartnerKind::Operator),
];

/// One synthetic report, before validation.
#[derive(Debug, Clone)]
pub struct SynthReport {
    pub external_id: String,
    /// Index into [`DEMO_PARTNERS`] of the reporting organisation.
    pub reporter: usize,
    pub fraud_type: FraudType,
    pub channel: Channel,
    pub occurred_at: Timestamp,
    pub amount: Option<Money>,
    pub aangifte: bool,
    pub age_band: AgeBand,
    pub tlp: Tlp,
    pub description: &'static str,
    /// Kind, value as a person might write it, role.
    pub indicators: Vec<(IndicatorKind, String, IndicatorRole)>,
}

impl SynthReport {
    /// The report as the API and JSON Lines import take it.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "external_id": self.external_id,
            "fraud_type": self.fraud_type.as_str(),
            "channel": self.channel.as_str(),
            "occurred_at": self.occurred_at.to_rfc3339(),
            "aangifte": self.aangifte,
            "victim_age_band": self.age_band.as_str(),
            "tlp": self.tlp.as_str(),
            "description": self.description,
            "indicators": self.indicators.iter().map(|(k, v, r)| json!({"kind": k.as_str(), "value": v, "role": r.as_str()})).collect::<Vec<_>>(),
        });
        if let (Some(m), Some(obj)) = (self.amount, v.as_object_mut()) {
            obj.insert("amount".into(), json!({"value": m.decimal(), "currency": m.currency().code()}));
        }
        v
    }
}

/// Generates reports; the pools of recurring identifiers are fixed by the seed.
#[derive(Debug)]
pub struct Generator {
    rng: Rng,
    now: Timestamp,
    mules: Vec<String>,
    networks: Vec<NetworkPools>,
}

#[derive(Debug)]
struct NetworkPools {
    phones: Vec<String>,
    ibans: Vec<String>,
    domains: Vec<String>,
}

const FRAUD_MIX: &[(FraudType, u32)] = &[
    (FraudType::Marketplace, 600),
    (FraudType::Phishing, 100),
    (FraudType::FriendInNeed, 70),
    (FraudType::Webshop, 60),
    (FraudType::Bankhelpdesk, 50),
    (FraudType::Investment, 40),
    (FraudType::Identity, 30),
    (FraudType::Romance, 20),
    (FraudType::Other, 20),
    (FraudType::InvoiceCeo, 10),
];

/// Dutch bank codes weighted roughly by accounts; mules favour the big and the app banks.
const NL_BANK_MIX: &[(&str, u32)] = &[
    ("INGB", 30),
    ("RABO", 22),
    ("ABNA", 18),
    ("BUNQ", 10),
    ("KNAB", 5),
    ("SNSB", 6),
    ("ASNB", 3),
    ("RBRB", 3),
    ("TRIO", 2),
    ("NNBA", 1),
];

const TLP_MIX: &[(Tlp, u32)] = &[
    (Tlp::Clear, 5),
    (Tlp::Green, 30),
    (Tlp::Amber, 50),
    (Tlp::AmberStrict, 10),
    (Tlp::Red, 5),
];

const SHOP_WORDS: &[&str] = &[
    "goedkope",
    "voordelige",
    "snelle",
    "mega",
    "top",
    "super",
    "beste",
    "outlet",
    "direct",
    "budget",
];
const PRODUCTS: &[&str] = &[
    "sneakers",
    "airfryer",
    "telefoons",
    "fietsen",
    "parfum",
    "tassen",
    "horloges",
    "gameconsoles",
    "tuinmeubels",
    "zonnepanelen",
    "laptops",
];
const SHOP_SUFFIX: &[&str] = &["24", "-shop", "-outlet", "-nl", "store", "-deals", "online"];
const SHOP_TLDS: &[&str] = &["nl", "shop", "com", "store", "online", "eu"];
const BRANDS: &[&str] = &[
    "ing",
    "rabo",
    "abnamro",
    "bunq",
    "sns",
    "digid",
    "belastingdienst",
    "postnl",
    "mijnoverheid",
    "knab",
];
const LURES: &[&str] = &[
    "-verificatie",
    "-beveiliging",
    "-klantenservice",
    "-veilig",
    "-check",
    "-update",
    "-pas-vervangen",
];
const LURE_TLDS: &[&str] = &["com", "net", "info", "site", "online", "xyz"];
const FIRST_NAMES: &[&str] = &[
    "jan", "sanne", "mohammed", "emma", "daan", "lisa", "noah", "fleur", "sem", "julia", "kevin", "priya",
];
const MAIL_DOMAINS: &[&str] = &["gmail.com", "outlook.com", "hotmail.com", "live.nl", "protonmail.com"];

fn description(t: FraudType) -> &'static str {
    match t {
        FraudType::Marketplace => "Betaald voor een product via een advertentie; daarna geen reactie meer en niets ontvangen.",
        FraudType::Webshop => "Besteld in een webwinkel die er echt uitzag; het pakket kwam nooit.",
        FraudType::Phishing => "Sms met een link om de bankpas te vervangen; op een nagemaakte site ingelogd.",
        FraudType::FriendInNeed => "WhatsApp van een 'kind' met een nieuw nummer dat dringend een rekening moest betalen.",
        FraudType::Bankhelpdesk => "Gebeld door 'de bank' over verdachte betalingen; geld overgemaakt naar een 'veilige rekening'.",
        FraudType::Investment => "Via een advertentie belegd in crypto; uitbetalen lukte niet, er werd steeds meer geld gevraagd.",
        FraudType::Romance => "Online relatie; de ander vroeg geld voor een ticket en medische kosten.",
        FraudType::Identity => "Op mijn naam is een abonnement afgesloten dat ik niet heb aangevraagd.",
        FraudType::InvoiceCeo => "Factuur van een 'leverancier' met een gewijzigd rekeningnummer betaald.",
        FraudType::Other => "Andere vorm van oplichting.",
    }
}

impl Generator {
    pub fn new(seed: u64, now: Timestamp) -> Generator {
        let mut rng = Rng::new(seed);
        let mules = (0..200).map(|_| nl_iban(&mut rng)).collect();
        let networks = (0..6)
            .map(|_| {
                let n_phones = 3 + rng.below(3) as usize;
                let n_ibans = 4 + rng.below(5) as usize;
                let n_domains = 1 + rng.below(3) as usize;
                NetworkPools {
                    phones: (0..n_phones).map(|_| nl_mobile(&mut rng)).collect(),
                    ibans: (0..n_ibans).map(|_| nl_iban(&mut rng)).collect(),
                    domains: (0..n_domains).map(|_| shop_domain(&mut rng)).collect(),
                }
            })
            .collect();
        Generator { rng, now, mules, networks }
    }

    /// The recurring mule IBANs, most used first.
    pub fn mule_ibans(&self) -> &[String] {
        &self.mules
    }

    /// The phone numbers that tie network `i`'s reports together.
    pub fn network_phones(&self, i: usize) -> &[String] {
        self.networks.get(i).map_or(&[], |n| n.phones.as_slice())
    }

    fn mule(&mut self) -> String {
        // Zipf-like: low positions recur far more often.
        let u = self.rng.unit();
        let i = ((self.mules.len() as f64).powf(u) - 1.0) as usize;
        self.mules[i.min(self.mules.len() - 1)].clone()
    }

    /// The `n`-th report of the stream.
    pub fn report(&mut self, n: u64, external_prefix: &str) -> SynthReport {
        let fraud_type = *self.rng.weighted(FRAUD_MIX);
        let network = if self.rng.chance(0.15) {
            Some(self.rng.below(self.networks.len() as u64) as usize)
        } else {
            None
        };
        let age_days = (-(self.rng.unit().max(1e-9)).ln() * 120.0).min(540.0);
        let occurred_at = self.now.plus_millis(-((age_days * DAY_MILLIS as f64) as i64) - 3_600_000);
        let reporter = self.reporter(fraud_type);
        let aangifte = if DEMO_PARTNERS[reporter].1 == PartnerKind::Police {
            self.rng.chance(0.9)
        } else {
            self.rng.chance(0.35)
        };
        let amount = self.amount(fraud_type);
        let age_band = self.age_band(fraud_type);
        let tlp = *self.rng.weighted(TLP_MIX);
        let (channel, indicators) = self.indicators(fraud_type, network);
        SynthReport {
            external_id: format!("{external_prefix}{n}"),
            reporter,
            fraud_type,
            channel,
            occurred_at,
            amount,
            aangifte,
            age_band,
            tlp,
            description: description(fraud_type),
            indicators,
        }
    }

    fn reporter(&mut self, t: FraudType) -> usize {
        // Indexes into DEMO_PARTNERS: 0 police, 1 helpdesk, 2-3 banks, 4 psp, 5 telecom, 6 marketplace, 7 victim support.
        let mix: &[(usize, u32)] = match t {
            FraudType::Marketplace => &[(0, 35), (1, 20), (2, 12), (3, 12), (4, 3), (6, 15), (7, 3)],
            FraudType::Bankhelpdesk | FraudType::Phishing => &[(0, 30), (1, 20), (2, 20), (3, 20), (5, 7), (7, 3)],
            FraudType::Webshop => &[(0, 30), (1, 25), (2, 15), (3, 15), (4, 15)],
            _ => &[(0, 40), (1, 25), (2, 15), (3, 15), (7, 5)],
        };
        *self.rng.weighted(mix)
    }

    fn amount(&mut self, t: FraudType) -> Option<Money> {
        let (median, sigma, none, whole) = match t {
            FraudType::Marketplace => (250.0, 0.8, 0.02, true),
            FraudType::Webshop => (120.0, 0.7, 0.05, true),
            FraudType::Phishing => (1_500.0, 1.0, 0.3, false),
            FraudType::FriendInNeed => (2_000.0, 0.7, 0.1, false),
            FraudType::Bankhelpdesk => (6_000.0, 0.9, 0.05, false),
            FraudType::Investment => (25_000.0, 1.1, 0.05, false),
            FraudType::Romance => (9_000.0, 1.2, 0.1, false),
            FraudType::Identity => (600.0, 1.0, 0.4, false),
            FraudType::InvoiceCeo => (20_000.0, 1.0, 0.05, false),
            FraudType::Other => (400.0, 1.0, 0.3, false),
        };
        if self.rng.chance(none) {
            return None;
        }
        let euros = self.rng.lognormal(median, sigma).clamp(5.0, 2_000_000.0);
        let minor = if whole {
            (euros.round() as i64) * 100
        } else {
            (euros * 100.0).round() as i64
        };
        Some(Money::from_minor(minor, Currency::EUR))
    }

    fn age_band(&mut self, t: FraudType) -> AgeBand {
        let mix: &[(AgeBand, u32)] = match t {
            FraudType::Bankhelpdesk | FraudType::FriendInNeed => &[
                (AgeBand::From35, 5),
                (AgeBand::From45, 10),
                (AgeBand::From55, 20),
                (AgeBand::From65, 30),
                (AgeBand::From75, 25),
                (AgeBand::Unknown, 10),
            ],
            FraudType::Marketplace | FraudType::Webshop => &[
                (AgeBand::Under18, 4),
                (AgeBand::From18, 25),
                (AgeBand::From25, 25),
                (AgeBand::From35, 18),
                (AgeBand::From45, 12),
                (AgeBand::From55, 7),
                (AgeBand::From65, 4),
                (AgeBand::Unknown, 5),
            ],
            _ => &[
                (AgeBand::From18, 8),
                (AgeBand::From25, 14),
                (AgeBand::From35, 16),
                (AgeBand::From45, 18),
                (AgeBand::From55, 18),
                (AgeBand::From65, 12),
                (AgeBand::From75, 4),
                (AgeBand::Unknown, 10),
            ],
        };
        *self.rng.weighted(mix)
    }

    fn payee(&mut self, network: Option<usize>, mule_chance: f64) -> String {
        match network {
            Some(i) => {
                let ibans = self.networks[i].ibans.clone();
                self.rng.pick(&ibans).clone()
            }
            None if self.rng.chance(mule_chance) => self.mule(),
            None => nl_iban(&mut self.rng),
        }
    }

    fn phone(&mut self, network: Option<usize>) -> String {
        match network {
            Some(i) => {
                let phones = self.networks[i].phones.clone();
                self.rng.pick(&phones).clone()
            }
            None => nl_mobile(&mut self.rng),
        }
    }

    fn shop(&mut self, network: Option<usize>) -> String {
        match network {
            Some(i) => {
                let domains = self.networks[i].domains.clone();
                self.rng.pick(&domains).clone()
            }
            None => shop_domain(&mut self.rng),
        }
    }

    fn indicators(&mut self, t: FraudType, network: Option<usize>) -> (Channel, Vec<(IndicatorKind, String, IndicatorRole)>) {
        use IndicatorKind as K;
        use IndicatorRole as R;
        let rng_name = |rng: &mut Rng| {
            let first = rng.pick(FIRST_NAMES);
            let len = 2 + rng.below(3) as usize;
            format!("{first}{}", rng.digits(len))
        };
        let mut out = Vec::new();
        let channel = match t {
            FraudType::Marketplace => {
                out.push((
                    K::Iban,
                    {
                        let iban = self.payee(network, 0.35);
                        human_iban(&mut self.rng, &iban)
                    },
                    R::Payee,
                ));
                if self.rng.chance(0.7) {
                    let phone = self.phone(network);
                    out.push((K::Phone, human_phone(&mut self.rng, &phone), R::Seller));
                }
                if self.rng.chance(0.5) {
                    let name = rng_name(&mut self.rng);
                    out.push((K::Handle, format!("marktplaats:{name}"), R::Seller));
                }
                Channel::Marketplace
            }
            FraudType::Webshop => {
                let shop = self.shop(network);
                out.push((
                    K::Url,
                    format!(
                        "https://www.{shop}/{}",
                        self.rng.pick(&["checkout", "product/123", "bestellen", "winkelwagen"])
                    ),
                    R::Website,
                ));
                out.push((
                    K::Iban,
                    {
                        let iban = self.payee(network, 0.3);
                        human_iban(&mut self.rng, &iban)
                    },
                    R::Payee,
                ));
                if self.rng.chance(0.4) {
                    out.push((K::Email, format!("klantenservice@{shop}"), R::Contact));
                }
                Channel::Webshop
            }
            FraudType::Phishing => {
                let brand = self.rng.pick(BRANDS);
                let lure = self.rng.pick(LURES);
                let tld = self.rng.pick(LURE_TLDS);
                let host = if self.rng.chance(0.05) {
                    format!("{}{lure}.{tld}", brand.replacen('a', "а", 1))
                } else {
                    format!("{brand}{lure}.{tld}")
                };
                out.push((K::Url, format!("https://{host}/login?id={}", self.rng.digits(6)), R::Website));
                let sms = self.rng.chance(0.6);
                if sms {
                    let phone = self.phone(network);
                    out.push((K::Phone, human_phone(&mut self.rng, &phone), R::Sender));
                } else {
                    out.push((K::Email, format!("noreply@{brand}{lure}.{tld}"), R::Sender));
                }
                if self.rng.chance(0.5) {
                    out.push((
                        K::Iban,
                        {
                            let iban = self.payee(network, 0.5);
                            human_iban(&mut self.rng, &iban)
                        },
                        R::Payee,
                    ));
                }
                if sms { Channel::Sms } else { Channel::Email }
            }
            FraudType::FriendInNeed => {
                let phone = self.phone(network);
                let e164 = Indicator::parse(Some(K::Phone), &phone)
                    .map(|i| i.canonical().to_owned())
                    .unwrap_or(phone);
                out.push((K::Handle, format!("whatsapp:{e164}"), R::Contact));
                out.push((
                    K::Iban,
                    {
                        let iban = self.payee(network, 0.5);
                        human_iban(&mut self.rng, &iban)
                    },
                    R::Payee,
                ));
                Channel::Whatsapp
            }
            FraudType::Bankhelpdesk => {
                let caller = if self.rng.chance(0.5) {
                    format!("088-{}", self.rng.digits(7))
                } else {
                    self.phone(network)
                };
                out.push((K::Phone, human_phone(&mut self.rng, &caller), R::Caller));
                out.push((
                    K::Iban,
                    {
                        let iban = self.payee(network, 0.6);
                        human_iban(&mut self.rng, &iban)
                    },
                    R::Payee,
                ));
                Channel::Phone
            }
            FraudType::Investment => {
                let wallet = if self.rng.chance(0.5) {
                    format!("0x{}", hex40(&mut self.rng))
                } else {
                    btc_address(&mut self.rng)
                };
                out.push((K::Crypto, wallet, R::Wallet));
                let platform = format!(
                    "{}-{}.{}",
                    self.rng.pick(&["crypto", "bitcoin", "trade", "invest", "profit"]),
                    self.rng.pick(&["gains", "pro", "capital", "ai", "markets"]),
                    self.rng.pick(&["com", "io", "net"])
                );
                out.push((K::Url, format!("https://{platform}/dashboard"), R::Website));
                if self.rng.chance(0.6) {
                    out.push((K::Phone, uk_mobile(&mut self.rng), R::Caller));
                }
                if self.rng.chance(0.3) {
                    out.push((K::Iban, foreign_iban(&mut self.rng), R::Payee));
                }
                Channel::SocialMedia
            }
            FraudType::Romance => {
                let name = rng_name(&mut self.rng);
                out.push((
                    K::Handle,
                    format!("{}:{name}", self.rng.pick(&["instagram", "tinder", "facebook"])),
                    R::Profile,
                ));
                out.push((K::Email, format!("{name}@{}", self.rng.pick(MAIL_DOMAINS)), R::Contact));
                if self.rng.chance(0.6) {
                    out.push((K::Iban, foreign_iban(&mut self.rng), R::Payee));
                }
                Channel::DatingSite
            }
            FraudType::Identity => {
                let name = rng_name(&mut self.rng);
                out.push((K::Email, format!("{name}@{}", self.rng.pick(MAIL_DOMAINS)), R::Contact));
                if self.rng.chance(0.5) {
                    let phone = nl_mobile(&mut self.rng);
                    out.push((K::Phone, phone, R::Contact));
                }
                Channel::Email
            }
            FraudType::InvoiceCeo => {
                out.push((
                    K::Iban,
                    {
                        let iban = foreign_iban(&mut self.rng);
                        human_iban(&mut self.rng, &iban)
                    },
                    R::Payee,
                ));
                let name = rng_name(&mut self.rng);
                out.push((K::Email, format!("{name}@{}", self.shop(None)), R::Sender));
                Channel::Email
            }
            FraudType::Other => {
                out.push((
                    K::Phone,
                    {
                        let phone = nl_mobile(&mut self.rng);
                        human_phone(&mut self.rng, &phone)
                    },
                    R::Contact,
                ));
                Channel::Other
            }
        };
        (channel, out)
    }
}

/// A valid Dutch IBAN: a weighted bank code and a ten-digit account number that passes the
/// Dutch 11-test, as bank account numbers did before IBAN.
pub fn nl_iban(rng: &mut Rng) -> String {
    let bank = *rng.weighted(NL_BANK_MIX);
    nl_iban_at(rng, bank)
}

/// A valid Dutch IBAN at the bank with code `bank` (the account number passes the
/// eleven test, as real ones do).
pub fn nl_iban_at(rng: &mut Rng, bank: &str) -> String {
    loop {
        let account = rng.digits(10);
        let sum: u32 = account
            .bytes()
            .enumerate()
            .map(|(i, b)| u32::from(b - b'0') * (10 - i as u32))
            .sum();
        if !sum.is_multiple_of(11) || account.starts_with("000") {
            continue;
        }
        let bban = format!("{bank}{account}");
        if let Some(check) = iban_check_digits("NL", &bban) {
            return format!("NL{check}{bban}");
        }
    }
}

/// A valid IBAN from a country often used for cross-border mule accounts.
pub fn foreign_iban(rng: &mut Rng) -> String {
    loop {
        let (country, bban) = match rng.below(3) {
            0 => ("DE", rng.digits(18)),
            1 => ("LT", format!("{}{}", rng.pick(&["32500", "70440", "73000"]), rng.digits(11))),
            _ => ("BE", {
                let base = rng.digits(10);
                let check = base.parse::<u64>().unwrap_or(0) % 97;
                format!("{base}{:02}", if check == 0 { 97 } else { check })
            }),
        };
        if let Some(check) = iban_check_digits(country, &bban) {
            let iban = format!("{country}{check}{bban}");
            if Indicator::parse(Some(IndicatorKind::Iban), &iban).is_ok() {
                return iban;
            }
        }
    }
}

/// An IBAN written the way people do: grouped, in one of several styles.
fn human_iban(rng: &mut Rng, iban: &str) -> String {
    match rng.below(4) {
        0 => iban.to_owned(),
        1 => iban.to_lowercase(),
        _ => iban
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// A Dutch mobile number (06-1 to 06-5 and 06-8 ranges).
pub fn nl_mobile(rng: &mut Rng) -> String {
    format!("06{}{}", rng.pick(&['1', '2', '3', '4', '5', '8']), rng.digits(7))
}

fn human_phone(rng: &mut Rng, phone: &str) -> String {
    let Some(rest) = phone.strip_prefix('0') else {
        return phone.to_owned();
    };
    match rng.below(4) {
        0 => phone.to_owned(),
        1 => format!("{}-{}", &phone[..2], &phone[2..]),
        2 => format!("+31 {} {}", &rest[..1], &rest[1..]),
        _ => format!("0031{rest}"),
    }
}

fn uk_mobile(rng: &mut Rng) -> String {
    loop {
        let number = format!("+44 7{} {}", rng.pick(&["400", "700", "800", "900", "500"]), rng.digits(6));
        if Indicator::parse(Some(IndicatorKind::Phone), &number).is_ok() {
            return number;
        }
    }
}

fn shop_domain(rng: &mut Rng) -> String {
    format!(
        "{}-{}{}.{}",
        rng.pick(SHOP_WORDS),
        rng.pick(PRODUCTS),
        rng.pick(SHOP_SUFFIX),
        rng.pick(SHOP_TLDS)
    )
}

fn hex40(rng: &mut Rng) -> String {
    (0..40).map(|_| char::from(b"0123456789abcdef"[rng.below(16) as usize])).collect()
}

fn btc_address(rng: &mut Rng) -> String {
    let program: Vec<u8> = (0..20).map(|_| rng.below(256) as u8).collect();
    bech32::segwit::encode_v0(bech32::hrp::BC, &program).unwrap_or_else(|_| "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn every_identifier_is_valid() {
        let mut g = Generator::new(7, Timestamp::parse_rfc3339("2026-11-28T00:00:00Z").expect("valid"));
        for n in 0..3_000 {
            let r = g.report(n, "t-");
            assert!(!r.indicators.is_empty());
            for (kind, value, _) in &r.indicators {
                let parsed = Indicator::parse(Some(*kind), value);
                assert!(parsed.is_ok(), "{kind} {value}: {parsed:?}");
            }
        }
    }

    #[test]
    fn the_mix_is_realistic() {
        let mut g = Generator::new(1, Timestamp::parse_rfc3339("2026-11-28T00:00:00Z").expect("valid"));
        let reports: Vec<SynthReport> = (0..10_000).map(|n| g.report(n, "t-")).collect();
        let marketplace: Vec<&SynthReport> = reports.iter().filter(|r| r.fraud_type == FraudType::Marketplace).collect();
        let share = marketplace.len() as f64 / reports.len() as f64;
        assert!((0.55..0.65).contains(&share), "marketplace share {share}");
        let mut losses: Vec<i64> = marketplace.iter().filter_map(|r| r.amount.map(|m| m.minor())).collect();
        losses.sort_unstable();
        let median = losses[losses.len() / 2] as f64 / 100.0;
        assert!((200.0..300.0).contains(&median), "marketplace median loss {median}");
        let mut helpdesk: Vec<i64> = reports
            .iter()
            .filter(|r| r.fraud_type == FraudType::Bankhelpdesk)
            .filter_map(|r| r.amount.map(|m| m.minor()))
            .collect();
        helpdesk.sort_unstable();
        assert!(helpdesk[helpdesk.len() / 2] > 100_000, "bank-helpdesk losses are in the thousands");
        let types: std::collections::HashSet<FraudType> = reports.iter().map(|r| r.fraud_type).collect();
        assert_eq!(types.len(), FraudType::ALL.len(), "every fraud type occurs");
        let mut payees: HashMap<String, usize> = HashMap::new();
        for r in &reports {
            for (kind, value, _) in &r.indicators {
                if *kind == IndicatorKind::Iban {
                    let canonical = Indicator::parse(Some(*kind), value).expect("valid").canonical().to_owned();
                    *payees.entry(canonical).or_default() += 1;
                }
            }
        }
        let busiest = payees.values().max().copied().unwrap_or(0);
        assert!(busiest >= 50, "mule IBANs recur: the busiest appears {busiest} times");
    }

    #[test]
    fn deterministic_for_a_seed() {
        let now = Timestamp::parse_rfc3339("2026-11-28T00:00:00Z").expect("valid");
        let a: Vec<Value> = (0..50)
            .map({
                let mut g = Generator::new(3, now);
                move |n| g.report(n, "x").to_json()
            })
            .collect();
        let b: Vec<Value> = (0..50)
            .map({
                let mut g = Generator::new(3, now);
                move |n| g.report(n, "x").to_json()
            })
            .collect();
        assert_eq!(a, b);
    }
}

/// One synthetic intervention event: a payment for a bank, or a call event for a telecom
/// provider, as the API takes it.
#[derive(Debug, Clone)]
pub enum InterventionEvent {
    Payment(Value),
    Call(Value),
}

/// The helpdesk numbers of the demo banks: on the do-not-originate list in the demo.
pub const DEMO_HELPDESK_NUMBERS: [&str; 2] = ["+31201234567", "+31301234567"];

/// A realistic stream of payments and calls: everyday payments to shops and people (most of
/// them), payments to the demo registry's mule accounts (marketplace fraud), and bank-helpdesk
/// scenes: a call to a customer that presents the bank's number from abroad (blocked as
/// spoofed), or comes from an unknown number, followed by a large instant payment by the
/// customer while the call goes on. `subscriber_ref` turns a number into the reference banks
/// and telecom providers share.
pub fn intervention_events(seed: u64, n: usize, mules: &[String], subscriber_ref: &dyn Fn(&str) -> String) -> Vec<InterventionEvent> {
    let mut rng = Rng::new(seed);
    // Numbers in E.164, as the telecom provider sends them and as the reference is made of.
    let e164 = |n: String| {
        vangnet_core::indicator::PhoneNumber::parse(&n)
            .map(|p| p.as_str().to_owned())
            .unwrap_or(n)
    };
    let payers: Vec<(String, String)> = (0..300).map(|_| (nl_iban(&mut rng), e164(nl_mobile(&mut rng)))).collect();
    let shops: Vec<String> = (0..400).map(|_| nl_iban(&mut rng)).collect();
    let at = |i: usize| Timestamp::now().plus_millis(i as i64 * 1_000).to_rfc3339();
    let mut out = Vec::with_capacity(n + 8);
    let mut i = 0;
    while out.len() < n {
        i += 1;
        let (payer, phone) = rng.pick(&payers).clone();
        let roll = rng.below(100);
        if roll < 3 {
            // A bank-helpdesk scene: the call, the payment during the call, the end of the call.
            let spoofed = rng.chance(0.5);
            let caller = if spoofed {
                DEMO_HELPDESK_NUMBERS[0].to_owned()
            } else {
                nl_mobile(&mut rng)
            };
            let call_id = format!("demo-call-{seed}-{i}");
            let ingress = if spoofed { "international" } else { "domestic" };
            out.push(InterventionEvent::Call(serde_json::json!({
                "call_id": call_id, "event": "start", "at": at(i), "caller": caller, "callee": phone, "ingress": ingress,
            })));
            let amount = rng.lognormal(4_500.0, 0.4).clamp(1_000.0, 20_000.0);
            out.push(InterventionEvent::Payment(serde_json::json!({
                "id": format!("demo-pay-{seed}-{i}"),
                "payer": {"iban": payer, "subscriber_ref": subscriber_ref(&phone)},
                "payee": {"iban": nl_iban(&mut rng)},
                "amount": {"value": format!("{amount:.2}"), "currency": "EUR"},
                "instant": true,
                "initiated_at": at(i),
            })));
            out.push(InterventionEvent::Call(serde_json::json!({
                "call_id": call_id, "event": "end", "at": at(i + 1), "caller": caller, "callee": phone, "ingress": ingress,
            })));
        } else if roll < 10 && !mules.is_empty() {
            let amount = rng.lognormal(250.0, 0.6).clamp(20.0, 3_000.0);
            out.push(InterventionEvent::Payment(serde_json::json!({
                "id": format!("demo-pay-{seed}-{i}"),
                "payer": {"iban": payer},
                "payee": {"iban": rng.pick(mules), "name": "Verkoper"},
                "amount": {"value": format!("{amount:.2}"), "currency": "EUR"},
                "instant": rng.chance(0.3),
                "initiated_at": at(i),
            })));
        } else if roll < 20 {
            out.push(InterventionEvent::Call(serde_json::json!({
                "call_id": format!("demo-call-{seed}-{i}"), "event": "start", "at": at(i),
                "caller": nl_mobile(&mut rng), "callee": phone, "ingress": "domestic",
            })));
        } else {
            let amount = rng.lognormal(40.0, 0.9).clamp(1.0, 2_000.0);
            out.push(InterventionEvent::Payment(serde_json::json!({
                "id": format!("demo-pay-{seed}-{i}"),
                "payer": {"iban": payer},
                "payee": {"iban": rng.pick(&shops)},
                "amount": {"value": format!("{amount:.2}"), "currency": "EUR"},
                "instant": rng.chance(0.2),
                "initiated_at": at(i),
            })));
        }
    }
    out.truncate(n);
    out
}

/// The `n`-th of a stream of distinct, valid indicators of five kinds.
pub fn unique_indicator(n: u64) -> (IndicatorKind, String, vangnet_core::report::IndicatorRole) {
    use vangnet_core::report::IndicatorRole as R;
    match n % 5 {
        0 => {
            let banks = ["INGB", "RABO", "ABNA", "BUNQ", "SNSB"];
            let bban = format!("{}{:010}", banks[(n / 5 % 5) as usize], n / 25);
            let check = vangnet_core::indicator::iban_check_digits("NL", &bban).unwrap_or_default();
            (IndicatorKind::Iban, format!("NL{check}{bban}"), R::Payee)
        }
        1 => (IndicatorKind::Phone, format!("+3161{:07}", n / 5 % 10_000_000), R::Caller),
        2 => (IndicatorKind::Domain, format!("shop-{n}.nl"), R::Website),
        3 => (IndicatorKind::Email, format!("seller{n}@example.nl"), R::Contact),
        _ => (IndicatorKind::Url, format!("https://site-{n}.com/pay"), R::Website),
    }
}
