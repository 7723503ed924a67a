//! A synthetic transaction world in the form of IBM's AMLworld data sets, for `vangnet mules
//! generate`: background activity with the structures that make laundering hard to find
//! (web shops paid by many, payroll to many, rent, friends paying each other back, salaries
//! moved on to savings the same day) and injected laundering attempts of the AMLworld
//! typologies (fan-in, fan-out, cycle, scatter-gather, gather-scatter, bipartite, stack and
//! random walks of money through mules) at the AMLworld HI or LI illicit rate.
//!
//! It is not the AMLworld data: its activity model is far simpler than the AMLworld
//! generator's, so figures on it say how the detectors do on these structures, not on AMLworld.
//! Deterministic for a seed.

use crate::synth::Rng;

/// Minutes in a day.
pub const DAY_MINUTES: u32 = 1_440;

/// The days a generated file spans (AMLworld's small sets span about ten).
pub const DAYS: u32 = 10;

/// The illicit rate profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// AMLworld's higher illicit ratio (HI-Small: 5,177 of 5,078,345 transactions, 1 in 981).
    Hi,
    /// AMLworld's lower illicit ratio (LI-Small: 3,565 of 6,924,049, 1 in 1,942).
    Li,
}

impl Profile {
    pub fn illicit_rate(self) -> f64 {
        match self {
            Profile::Hi => 5_177.0 / 5_078_345.0,
            Profile::Li => 3_565.0 / 6_924_049.0,
        }
    }
}

/// The currencies of the world, and units per US dollar.
pub const CURRENCIES: [(&str, f64, u32); 10] = [
    ("US Dollar", 1.0, 40),
    ("Euro", 0.95, 22),
    ("UK Pound", 0.80, 8),
    ("Yuan", 7.1, 7),
    ("Rupee", 83.0, 6),
    ("Yen", 145.0, 5),
    ("Canadian Dollar", 1.35, 4),
    ("Australian Dollar", 1.5, 3),
    ("Swiss Franc", 0.88, 3),
    ("Mexican Peso", 17.5, 2),
];

/// AMLworld's payment formats.
pub const FORMATS: [&str; 6] = ["Reinvestment", "Cheque", "Credit Card", "ACH", "Cash", "Wire"];

/// The typologies injected, with AMLworld's names in `patterns.txt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typology {
    FanIn,
    FanOut,
    Cycle,
    ScatterGather,
    GatherScatter,
    Bipartite,
    Stack,
    Random,
}

impl Typology {
    pub fn amlworld_name(self) -> &'static str {
        match self {
            Typology::FanIn => "FAN-IN",
            Typology::FanOut => "FAN-OUT",
            Typology::Cycle => "CYCLE",
            Typology::ScatterGather => "SCATTER-GATHER",
            Typology::GatherScatter => "GATHER-SCATTER",
            Typology::Bipartite => "BIPARTITE",
            Typology::Stack => "STACK",
            Typology::Random => "RANDOM",
        }
    }
}

/// One transaction, before formatting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    /// Minutes from the first day's midnight.
    pub minute: u32,
    pub from: u32,
    pub to: u32,
    /// What the payer paid, in cents of its currency.
    pub paid: i64,
    /// What the payee received, in cents of its currency.
    pub received: i64,
    pub format: u8,
    pub laundering: bool,
}

/// One injected attempt: its typology, the label AMLworld gives its size, its rows.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub typology: Typology,
    pub detail: String,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Person,
    Merchant,
    Employer,
    Landlord,
}

/// The accounts of one currency region.
#[derive(Debug, Default, Clone)]
struct Region {
    persons: Vec<u32>,
    merchants: Vec<u32>,
    employers: Vec<u32>,
    landlords: Vec<u32>,
    criminals: Vec<u32>,
}

/// Per account: its region (currency index) and bank; what a row needs to be written.
#[derive(Debug)]
pub struct Book {
    region_of: Vec<u8>,
    bank_of: Vec<u32>,
}

impl Book {
    pub fn accounts(&self) -> usize {
        self.region_of.len()
    }

    /// The bank code of `account`, as AMLworld writes it.
    pub fn bank(&self, account: u32) -> u32 {
        self.bank_of[account as usize] * 7 + 10
    }

    /// The currency of `account`.
    pub fn currency(&self, account: u32) -> &'static str {
        CURRENCIES[usize::from(self.region_of[account as usize])].0
    }

    /// The account number of `account`, nine hex digits as in AMLworld (a bijection of the
    /// index, so numbers are unique and look random).
    pub fn number(account: u32) -> u64 {
        (1 << 35) | (u64::from(account).wrapping_mul(0x9e37_79b1) & ((1 << 35) - 1))
    }
}

/// The world: its accounts, their roles and ties.
#[derive(Debug)]
pub struct World {
    rng: Rng,
    book: Book,
    regions: Vec<Region>,
    /// Per employer: its employees.
    employees: Vec<(u32, Vec<u32>)>,
    /// Per person: landlord (u32::MAX: none), savings account, whether the salary moves on.
    landlord: Vec<u32>,
    savings: Vec<u32>,
    forwards: Vec<bool>,
    /// Per business (merchant or employer): its three regular suppliers.
    suppliers: Vec<[u32; 3]>,
    transactions: u64,
    profile: Profile,
}

impl World {
    /// A world for about `transactions` transactions (one account per ten).
    pub fn new(profile: Profile, transactions: u64, seed: u64) -> World {
        let mut rng = Rng::new(seed);
        let accounts = (transactions / 10).clamp(200, u64::from(u32::MAX / 2)) as u32;
        let banks = (accounts / 400).max(8);
        let total_weight: u32 = CURRENCIES.iter().map(|c| c.2).sum();
        let mut region_of = Vec::with_capacity(accounts as usize);
        let mut bank_of = Vec::with_capacity(accounts as usize);
        let mut regions = vec![Region::default(); CURRENCIES.len()];
        let mut at = 0u32;
        for (r, (_, _, w)) in CURRENCIES.iter().enumerate() {
            let size = if r == CURRENCIES.len() - 1 {
                accounts - at
            } else {
                (u64::from(accounts) * u64::from(*w) / u64::from(total_weight)) as u32
            };
            // Each region has its own banks.
            let first_bank = banks * r as u32 / CURRENCIES.len() as u32;
            let region_banks = (banks / CURRENCIES.len() as u32).max(1);
            for id in at..at + size {
                region_of.push(r as u8);
                bank_of.push(first_bank + (rng.below(u64::from(region_banks)) as u32));
                let role = match rng.below(1_000) {
                    0..=59 => Role::Merchant,
                    60..=79 => Role::Employer,
                    80..=129 => Role::Landlord,
                    _ => Role::Person,
                };
                let region = &mut regions[r];
                match role {
                    Role::Person => {
                        region.persons.push(id);
                        if rng.chance(0.03) {
                            region.criminals.push(id);
                        }
                    }
                    Role::Merchant => region.merchants.push(id),
                    Role::Employer => region.employers.push(id),
                    Role::Landlord => region.landlords.push(id),
                }
            }
            at += size;
        }
        let n = accounts as usize;
        let mut landlord = vec![u32::MAX; n];
        let mut savings = vec![u32::MAX; n];
        let mut forwards = vec![false; n];
        let mut employees: Vec<(u32, Vec<u32>)> = Vec::new();
        for region in &regions {
            if region.persons.is_empty() {
                continue;
            }
            let base = employees.len();
            employees.extend(region.employers.iter().map(|e| (*e, Vec::new())));
            for &p in &region.persons {
                if !region.employers.is_empty() && rng.chance(0.6) {
                    // Employer sizes are heavy-tailed: many small firms, a few large ones.
                    let k = skewed(&mut rng, region.employers.len(), 3.0);
                    employees[base + k].1.push(p);
                }
                if !region.landlords.is_empty() && rng.chance(0.35) {
                    // Housing corporations (the first few landlords) have many tenants; private
                    // landlords a few.
                    landlord[p as usize] = region.landlords[skewed(&mut rng, region.landlords.len(), 2.0)];
                }
                savings[p as usize] = *rng.pick(&region.persons);
                forwards[p as usize] = rng.chance(0.04);
            }
        }
        // Businesses buy from the same few suppliers, mostly the larger ones.
        let mut suppliers = vec![[u32::MAX; 3]; n];
        for region in &regions {
            if region.merchants.is_empty() {
                continue;
            }
            for &b in region.merchants.iter().chain(&region.employers) {
                for s in &mut suppliers[b as usize] {
                    *s = region.merchants[skewed(&mut rng, region.merchants.len(), 1.5)];
                }
            }
        }
        World {
            rng,
            book: Book { region_of, bank_of },
            suppliers,
            regions,
            employees,
            landlord,
            savings,
            forwards,
            transactions,
            profile,
        }
    }

    fn accounts(&self) -> usize {
        self.book.accounts()
    }

    /// Generates the laundering attempts, then every day's rows in time order: `row` gets
    /// each transaction, `attempt` each attempt (before any of its rows).
    pub fn generate(&mut self, mut row: impl FnMut(&Book, &Row), mut attempt: impl FnMut(&Book, &Attempt)) {
        let total_minutes = DAYS * DAY_MINUTES;
        let illicit_target = (self.transactions as f64 * self.profile.illicit_rate()).round() as u64;
        let mut by_day: Vec<Vec<Row>> = vec![Vec::new(); DAYS as usize];
        let mut illicit = 0u64;
        while illicit < illicit_target {
            let a = self.attempt(total_minutes);
            illicit += a.rows.len() as u64;
            attempt(&self.book, &a);
            for r in &a.rows {
                by_day[(r.minute / DAY_MINUTES) as usize].push(*r);
            }
        }
        let scheduled = self.scheduled_count();
        let background = self.transactions.saturating_sub(illicit).saturating_sub(scheduled);
        let per_day = background / u64::from(DAYS);
        for day in 0..DAYS {
            let mut rows = std::mem::take(&mut by_day[day as usize]);
            self.scheduled(day, &mut rows);
            let extra = if day == DAYS - 1 {
                background - per_day * u64::from(DAYS - 1)
            } else {
                per_day
            };
            for _ in 0..extra {
                let r = self.everyday(day);
                rows.push(r);
            }
            rows.sort_by_key(|r| r.minute);
            for r in &rows {
                row(&self.book, r);
            }
        }
    }

    /// Payroll (twice) and rent: the rows `scheduled` will add over all days.
    fn scheduled_count(&self) -> u64 {
        let employed: u64 = self.employees.iter().map(|(_, e)| e.len() as u64).sum();
        let forwarding: u64 = self
            .employees
            .iter()
            .flat_map(|(_, e)| e.iter())
            .filter(|p| self.forwards[**p as usize])
            .count() as u64;
        let tenants = self.landlord.iter().filter(|l| **l != u32::MAX).count() as u64;
        2 * (employed + forwarding) + tenants
    }

    /// The rows due on `day`: payroll on days 0 and 7 (and salaries moved on to savings), rent
    /// on days 0 to 2.
    fn scheduled(&mut self, day: u32, rows: &mut Vec<Row>) {
        let start = day * DAY_MINUTES;
        if day == 0 || day == 7 {
            for e in 0..self.employees.len() {
                let employer = self.employees[e].0;
                let at = start + 8 * 60 + self.rng.below(120) as u32;
                for i in 0..self.employees[e].1.len() {
                    let person = self.employees[e].1[i];
                    let salary = self.rng.lognormal(3_000.0, 0.4);
                    let minute = at + self.rng.below(30) as u32;
                    rows.push(self.row(minute, employer, person, salary, 3));
                    if self.forwards[person as usize] {
                        let later = (minute + 60 + self.rng.below(900) as u32).min(start + DAY_MINUTES - 1);
                        let share = 0.9 + 0.1 * self.rng.unit();
                        rows.push(self.row(later, person, self.savings[person as usize], salary * share, 3));
                    }
                }
            }
        }
        if day < 3 {
            for tenant in 0..self.landlord.len() {
                let l = self.landlord[tenant];
                if l != u32::MAX && tenant as u32 % 3 == day {
                    let minute = start + self.rng.below(u64::from(DAY_MINUTES)) as u32;
                    let rent = self.rng.lognormal(1_100.0, 0.3);
                    rows.push(self.row(minute, tenant as u32, l, rent, 3));
                }
            }
        }
    }

    /// One everyday transaction on `day`.
    fn everyday(&mut self, day: u32) -> Row {
        let minute = day * DAY_MINUTES + self.rng.below(u64::from(DAY_MINUTES)) as u32;
        let region = self.rng.weighted(&REGION_WEIGHTS).to_owned();
        let r = &self.regions[region];
        if r.persons.is_empty() || r.merchants.is_empty() {
            let a = self.rng.below(self.accounts() as u64) as u32;
            return self.row(minute, a, a, 100.0, 0);
        }
        let kind = self.rng.below(100);
        let (from, to, amount, format) = match kind {
            // Shopping: popular shops take most.
            0..=54 => {
                let p = *self.rng.pick(&r.persons);
                let m = r.merchants[skewed(&mut self.rng, r.merchants.len(), 2.5)];
                let format = *self.rng.pick(&[1u8, 2, 2, 2, 3, 4]);
                (p, m, self.rng.lognormal(45.0, 1.0), format)
            }
            // Friends and family.
            55..=66 => {
                let p = *self.rng.pick(&r.persons);
                let friend = r.persons[(hash(u64::from(p), self.rng.below(4)) % r.persons.len() as u64) as usize];
                (p, friend, self.rng.lognormal(60.0, 0.9), *self.rng.pick(&[3u8, 4, 5]))
            }
            // Money moved between one's own accounts (AMLworld's reinvestment).
            67..=76 => {
                let a = *self.rng.pick(&r.persons);
                (a, a, self.rng.lognormal(500.0, 1.0), 0)
            }
            // Businesses paying their suppliers.
            77..=88 => {
                let m = *self.rng.pick(&r.merchants);
                let s = *self.rng.pick(&self.suppliers[m as usize]);
                (m, s, self.rng.lognormal(2_000.0, 1.2), *self.rng.pick(&[1u8, 3, 5]))
            }
            // Employers' costs.
            89..=93 => {
                let e = if r.employers.is_empty() {
                    *self.rng.pick(&r.merchants)
                } else {
                    *self.rng.pick(&r.employers)
                };
                let s = *self.rng.pick(&self.suppliers[e as usize]);
                (e, s, self.rng.lognormal(5_000.0, 1.0), *self.rng.pick(&[1u8, 3, 5]))
            }
            // Abroad: a purchase or a transfer in another currency.
            _ => {
                let p = *self.rng.pick(&r.persons);
                let other = self.rng.weighted(&REGION_WEIGHTS).to_owned();
                let o = &self.regions[other];
                let to = if o.merchants.is_empty() {
                    *self.rng.pick(&r.merchants)
                } else {
                    o.merchants[skewed(&mut self.rng, o.merchants.len(), 2.0)]
                };
                (p, to, self.rng.lognormal(150.0, 1.0), *self.rng.pick(&[2u8, 5]))
            }
        };
        self.row(minute, from, to, amount, format)
    }

    /// A row of `dollars` (converted to each side's currency).
    fn row(&self, minute: u32, from: u32, to: u32, dollars: f64, format: u8) -> Row {
        let rate = |a: u32| CURRENCIES[usize::from(self.book.region_of[a as usize])].1;
        let cents = |x: f64| (x * 100.0).round().max(1.0) as i64;
        Row {
            minute,
            from,
            to,
            paid: cents(dollars * rate(from)),
            received: cents(dollars * rate(to)),
            format,
            laundering: false,
        }
    }

    /// Distinct criminal accounts for one attempt, mostly from one region.
    fn criminals(&mut self, n: usize) -> Vec<u32> {
        let home = *self.rng.weighted(&REGION_WEIGHTS);
        let mut out: Vec<u32> = Vec::with_capacity(n);
        let mut tries = 0;
        while out.len() < n && tries < n * 50 {
            tries += 1;
            let region = if self.rng.chance(0.85) {
                home
            } else {
                *self.rng.weighted(&REGION_WEIGHTS)
            };
            let pool = &self.regions[region].criminals;
            if pool.is_empty() {
                continue;
            }
            let a = *self.rng.pick(pool);
            if !out.contains(&a) {
                out.push(a);
            }
        }
        while out.len() < n {
            // A tiny world: any distinct account.
            let a = self.rng.below(self.accounts() as u64) as u32;
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }

    fn launder(&mut self, minute: u32, from: u32, to: u32, dollars: f64) -> Row {
        let format = *self.rng.weighted(&[(3u8, 50), (5, 15), (1, 12), (4, 12), (2, 11)]);
        Row {
            laundering: true,
            ..self.row(minute, from, to, dollars, format)
        }
    }

    /// One laundering attempt somewhere in the `total` minutes.
    fn attempt(&mut self, total: u32) -> Attempt {
        let typology = *self.rng.weighted(&[
            (Typology::FanIn, 15),
            (Typology::FanOut, 15),
            (Typology::Cycle, 12),
            (Typology::ScatterGather, 12),
            (Typology::GatherScatter, 12),
            (Typology::Bipartite, 10),
            (Typology::Stack, 8),
            (Typology::Random, 16),
        ]);
        let mut rows: Vec<Row> = Vec::new();
        let sum = self.rng.lognormal(9_000.0, 0.9);
        let span = |rng: &mut Rng, max: u64| rng.below(max) as u32;
        let detail;
        match typology {
            Typology::FanIn | Typology::FanOut => {
                let d = 3 + self.rng.below(14) as usize;
                let acc = self.criminals(d + 1);
                let mut times: Vec<u32> = (0..d).map(|_| span(&mut self.rng, 2_880)).collect();
                times.sort_unstable();
                for (i, t) in times.into_iter().enumerate() {
                    let part = sum / d as f64 * (0.5 + self.rng.unit());
                    let r = if typology == Typology::FanIn {
                        self.launder(t, acc[i + 1], acc[0], part)
                    } else {
                        self.launder(t, acc[0], acc[i + 1], part)
                    };
                    rows.push(r);
                }
                detail = if typology == Typology::FanIn {
                    format!("Max {d}-degree Fan-In")
                } else {
                    format!("Max {d}-degree Fan-Out")
                };
            }
            Typology::Cycle | Typology::Random => {
                let hops = if typology == Typology::Cycle {
                    3 + self.rng.below(6) as usize
                } else {
                    3 + self.rng.below(8) as usize
                };
                let acc = self.criminals(hops + 1);
                let (mut t, mut money) = (0u32, sum);
                for h in 0..hops {
                    let to = if typology == Typology::Cycle && h == hops - 1 {
                        acc[0]
                    } else {
                        acc[h + 1]
                    };
                    rows.push(self.launder(t, acc[h], to, money));
                    money *= 0.90 + 0.09 * self.rng.unit();
                    t += 60 + span(&mut self.rng, 660);
                }
                detail = format!("Max {hops} hops");
            }
            Typology::ScatterGather => {
                let k = 2 + self.rng.below(7) as usize;
                let acc = self.criminals(k + 2);
                for i in 0..k {
                    let out = span(&mut self.rng, 360);
                    let part = sum / k as f64 * (0.7 + 0.6 * self.rng.unit());
                    rows.push(self.launder(out, acc[0], acc[2 + i], part));
                    let back = out + 60 + span(&mut self.rng, 1_380);
                    let kept = part * (0.9 + 0.09 * self.rng.unit());
                    rows.push(self.launder(back, acc[2 + i], acc[1], kept));
                }
                detail = String::new();
            }
            Typology::GatherScatter => {
                let (k_in, k_out) = (2 + self.rng.below(7) as usize, 2 + self.rng.below(7) as usize);
                let acc = self.criminals(k_in + k_out + 1);
                let mut last = 0;
                for i in 0..k_in {
                    let t = span(&mut self.rng, 1_440);
                    last = last.max(t);
                    let part = sum / k_in as f64 * (0.7 + 0.6 * self.rng.unit());
                    rows.push(self.launder(t, acc[1 + i], acc[0], part));
                }
                for i in 0..k_out {
                    let t = last + 60 + span(&mut self.rng, 1_380);
                    rows.push(self.launder(t, acc[0], acc[1 + k_in + i], sum / k_out as f64 * 0.9));
                }
                detail = format!("Max {k_in}-degree Fan-In");
            }
            Typology::Bipartite | Typology::Stack => {
                let layers = if typology == Typology::Stack { 2 } else { 1 };
                let sizes: Vec<usize> = (0..=layers).map(|_| 2 + self.rng.below(5) as usize).collect();
                let acc = self.criminals(sizes.iter().sum());
                let mut first = 0usize;
                let mut start = 0u32;
                for l in 0..layers {
                    let (payers, payees) = (first..first + sizes[l], first + sizes[l]..first + sizes[l] + sizes[l + 1]);
                    let mut last = start;
                    for q in payees.clone() {
                        let mut any = false;
                        for p in payers.clone() {
                            if self.rng.chance(0.8) || (!any && p == payers.end - 1) {
                                any = true;
                                let t = start + span(&mut self.rng, 1_440);
                                last = last.max(t);
                                let part = sum / (sizes[l] * sizes[l + 1]) as f64 * (0.7 + 0.6 * self.rng.unit());
                                rows.push(self.launder(t, acc[p], acc[q], part));
                            }
                        }
                    }
                    first = payers.end;
                    start = last + 60 + span(&mut self.rng, 720);
                }
                detail = String::new();
            }
        }
        rows.sort_by_key(|r| r.minute);
        let length = rows.last().map_or(0, |r| r.minute) + 1;
        let offset = self.rng.below(u64::from(total.saturating_sub(length).max(1))) as u32;
        for r in &mut rows {
            r.minute += offset;
        }
        Attempt { typology, detail, rows }
    }
}

/// Regions (currencies) weighted by their size.
const REGION_WEIGHTS: [(usize, u32); 10] = {
    let mut out = [(0usize, 0u32); 10];
    let mut i = 0;
    while i < 10 {
        out[i] = (i, CURRENCIES[i].2);
        i += 1;
    }
    out
};

/// An index below `n` skewed towards 0 (`power` > 1: the higher, the more skewed).
fn skewed(rng: &mut Rng, n: usize, power: f64) -> usize {
    ((rng.unit().powf(power) * n as f64) as usize).min(n.saturating_sub(1))
}

fn hash(a: u64, b: u64) -> u64 {
    let mut x = a.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ b.wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
    x ^= x >> 31;
    x.wrapping_mul(0xbf58_476d_1ce4_e5b9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_world_has_the_size_and_illicit_rate_asked_for_in_time_order() {
        let mut w = World::new(Profile::Hi, 50_000, 7);
        let (mut rows, mut illicit, mut attempts, mut last) = (0u64, 0u64, 0u64, 0u32);
        let mut attempt_rows = 0u64;
        w.generate(
            |_, r| {
                rows += 1;
                illicit += u64::from(r.laundering);
                assert!(r.minute >= last, "time order");
                last = r.minute;
            },
            |_, a| {
                attempts += 1;
                attempt_rows += a.rows.len() as u64;
                assert!(a.rows.iter().all(|r| r.laundering));
            },
        );
        assert!((49_000..=51_000).contains(&rows), "{rows}");
        assert_eq!(illicit, attempt_rows);
        let target = 50_000.0 * Profile::Hi.illicit_rate();
        assert!(
            (illicit as f64) >= target && (illicit as f64) < target + 60.0,
            "{illicit} vs {target}"
        );
        assert!(attempts >= 3);
        assert!(last < DAYS * DAY_MINUTES);
    }

    #[test]
    fn the_same_seed_makes_the_same_world() {
        let collect = |seed| {
            let mut out = Vec::new();
            World::new(Profile::Li, 5_000, seed).generate(|_, r| out.push(*r), |_, _| {});
            out
        };
        assert_eq!(collect(3), collect(3));
        assert_ne!(collect(3), collect(4));
    }

    #[test]
    fn account_numbers_are_unique_nine_hex_digits() {
        let mut seen = std::collections::HashSet::new();
        for a in 0..100_000u32 {
            let n = Book::number(a);
            assert_eq!(format!("{n:X}").len(), 9);
            assert!(seen.insert(n));
        }
    }
}
