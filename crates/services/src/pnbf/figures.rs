//! The figures of the procedure: per bank as victim's bank and as payee's bank, and in total
//! (cases, outcomes, median days to each outcome, money claimed and recovered).

use std::collections::BTreeMap;

use vangnet_core::pnbf::{CaseState, Side};
use vangnet_core::{Money, PartnerKind, Timestamp};
use vangnet_store::Partner;

use super::{Case, Parties, PnbfError};
use crate::state::Services;

/// Figures for one group of cases.
/// Serialisable as it is: the API's figures answer and the CSV export show every field.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Figures {
    pub cases: u32,
    /// Cases opened per month (`YYYY-MM`).
    pub opened_per_month: BTreeMap<String, u32>,
    /// Ineligible cases per condition that was not met (a case can fail several).
    pub ineligible_by_reason: BTreeMap<String, u32>,
    pub ineligible: u32,
    pub repaid: u32,
    pub partially_repaid: u32,
    pub refused: u32,
    pub no_response: u32,
    pub naw_released: u32,
    pub withdrawn: u32,
    pub closed: u32,
    /// Median days from opening to each outcome reached.
    pub median_days: BTreeMap<String, f64>,
    /// Repaid in full or part, per currency (decimal text).
    pub recovered: BTreeMap<String, String>,
    /// Paid by the victims of the eligible cases, per currency.
    pub claimed: BTreeMap<String, String>,
}

/// One row of the figures: a bank in one role, or everything.
#[derive(Debug, Clone)]
pub struct FigureRow {
    /// The bank's name, or `total`.
    pub bank: String,
    /// `victim_bank`, `payee_bank` or `all`.
    pub role: String,
    pub figures: Figures,
}

const OUTCOME_STATES: [CaseState; 5] = [
    CaseState::Repaid,
    CaseState::PartiallyRepaid,
    CaseState::Refused,
    CaseState::NoResponse,
    CaseState::NawReleased,
];

/// Computes the figures of a group of cases.
pub fn figures(cases: &[&Case]) -> Figures {
    let mut f = Figures::default();
    let mut days: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut recovered: BTreeMap<String, i64> = BTreeMap::new();
    let mut claimed: BTreeMap<String, i64> = BTreeMap::new();
    for c in cases {
        f.cases += 1;
        *f.opened_per_month.entry(c.row.opened_at.date_string()[..7].to_owned()).or_default() += 1;
        if c.state() == CaseState::Ineligible {
            f.ineligible += 1;
            for cond in c.body.conditions.iter().filter(|c| !c.met) {
                *f.ineligible_by_reason.entry(cond.code.clone()).or_default() += 1;
            }
            continue;
        }
        *claimed.entry(c.body.currency.clone()).or_default() += c.body.amount_minor;
        if let Some(r) = c.body.repaid_minor {
            *recovered.entry(c.body.currency.clone()).or_default() += r;
        }
        let reached = |s: CaseState| c.body.reached.get(s.as_str()).copied().map(Timestamp::from_millis);
        for s in OUTCOME_STATES {
            if let Some(at) = reached(s) {
                match s {
                    CaseState::Repaid => f.repaid += 1,
                    CaseState::PartiallyRepaid => f.partially_repaid += 1,
                    CaseState::Refused => f.refused += 1,
                    CaseState::NoResponse => f.no_response += 1,
                    _ => f.naw_released += 1,
                }
                days.entry(s.as_str().to_owned()).or_default().push(at.days_since(c.row.opened_at));
            }
        }
        if reached(CaseState::Withdrawn).is_some() {
            f.withdrawn += 1;
        }
        if reached(CaseState::Closed).is_some() {
            f.closed += 1;
        }
    }
    for (state, mut d) in days {
        d.sort_by(f64::total_cmp);
        let median = if d.len() % 2 == 1 {
            d[d.len() / 2]
        } else {
            f64::midpoint(d[d.len() / 2 - 1], d[d.len() / 2])
        };
        f.median_days.insert(state, (median * 10.0).round() / 10.0);
    }
    let decimal = |m: BTreeMap<String, i64>| {
        m.into_iter()
            .map(|(cur, minor)| {
                let currency = vangnet_core::Currency::parse(&cur).unwrap_or(vangnet_core::Currency::EUR);
                (cur, Money::from_minor(minor, currency).decimal())
            })
            .collect()
    };
    f.recovered = decimal(recovered);
    f.claimed = decimal(claimed);
    f
}

/// The figures per bank (as victim's bank and as payee's bank) and in total.
pub async fn figure_rows(app: &Services) -> Result<Vec<FigureRow>, PnbfError> {
    let cases: Vec<Case> = app
        .store
        .pnbf_cases(None)
        .await?
        .into_iter()
        .map(Case::from_row)
        .collect::<Result<_, _>>()?;
    let parties = Parties::load(app).await?;
    let mut rows = Vec::new();
    for p in parties.all().iter().filter(|p| p.kind.holds_accounts()) {
        let as_victim: Vec<&Case> = cases.iter().filter(|c| c.row.victim_bank == p.seq).collect();
        if !as_victim.is_empty() {
            rows.push(FigureRow {
                bank: p.name.clone(),
                role: Side::VictimBank.as_str().to_owned(),
                figures: figures(&as_victim),
            });
        }
        let as_payee: Vec<&Case> = cases.iter().filter(|c| c.row.payee_bank == Some(p.seq)).collect();
        if !as_payee.is_empty() {
            rows.push(FigureRow {
                bank: p.name.clone(),
                role: Side::PayeeBank.as_str().to_owned(),
                figures: figures(&as_payee),
            });
        }
    }
    let all: Vec<&Case> = cases.iter().collect();
    rows.push(FigureRow {
        bank: "total".to_owned(),
        role: "all".to_owned(),
        figures: figures(&all),
    });
    Ok(rows)
}

/// The rows of the figures `reader` may see: the operator every bank's, a bank or PSP its own
/// (by name) and the total, anyone else the total.
pub async fn figure_rows_for(app: &Services, reader: &Partner) -> Result<Vec<FigureRow>, PnbfError> {
    let rows = figure_rows(app).await?;
    Ok(match reader.kind {
        PartnerKind::Operator => rows,
        k if k.holds_accounts() => rows.into_iter().filter(|r| r.bank == "total" || r.bank == reader.name).collect(),
        _ => rows.into_iter().filter(|r| r.bank == "total").collect(),
    })
}
