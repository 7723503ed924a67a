//! `vangnet mules evaluate`: how well the detectors find the laundering a labelled file marks.
//!
//! The file is read once into memory (about 40 bytes a transaction). The time range is split
//! at 60%: thresholds are tuned (coordinate descent over a fixed grid, best minority-class F1)
//! on the transactions before the split only, with the detectors run over those alone and the
//! first 20% of the time range counted in neither part (a warm-up: at the start of a file every
//! relationship is new, as it never is for a detector that has been running); the
//! report is on the transactions after it, with the detectors run over the whole file in
//! order, so nothing after a transaction's own time decides its verdict and nothing from the
//! reported part chose the thresholds.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use vangnet_core::mules::{Flag, Monitor, Pattern, Thresholds, Transfer};

use crate::amlworld::{self, Reader};
use crate::config::MulesConfig;

/// AMLworld's typologies, as its pattern listings name them.
const TYPOLOGIES: [&str; 8] = [
    "FAN-IN",
    "FAN-OUT",
    "CYCLE",
    "SCATTER-GATHER",
    "GATHER-SCATTER",
    "BIPARTITE",
    "STACK",
    "RANDOM",
];

#[derive(Debug, Clone, Copy)]
struct Sample {
    t: Transfer,
    laundering: bool,
    /// 1 + index into TYPOLOGIES, or 0 (not in the listing).
    typology: u8,
}

/// The counts of one run over the part reported.
#[derive(Debug, Default, Clone)]
struct Score {
    tp: u64,
    fp: u64,
    fn_: u64,
    /// Per typology (0: laundering not in the listing): flagged, all.
    typology: [(u64, u64); 9],
    /// Per pattern flagged: laundering, not.
    pattern: [(u64, u64); 8],
}

impl Score {
    fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Which transactions a run counts.
#[derive(Debug, Clone, Copy)]
enum Part {
    /// From the end of the warm-up to the split, running over everything before the split
    /// only.
    Tune(i64, i64),
    /// From the split on, running over everything.
    Report(i64),
}

fn score(thresholds: &Thresholds, samples: &[Sample], part: Part) -> Score {
    let mut monitor = Monitor::new(thresholds.clone());
    let mut flags: Vec<Flag> = Vec::new();
    let mut s = Score::default();
    for x in samples {
        let counted = match part {
            Part::Tune(warm, split) => {
                if x.t.at >= split {
                    continue;
                }
                x.t.at >= warm
            }
            Part::Report(split) => x.t.at >= split,
        };
        flags.clear();
        let verdict = monitor.observe(&x.t, &mut flags);
        if !counted {
            continue;
        }
        let flagged = verdict.is_some();
        match (flagged, x.laundering) {
            (true, true) => s.tp += 1,
            (true, false) => s.fp += 1,
            (false, true) => s.fn_ += 1,
            (false, false) => {}
        }
        if x.laundering {
            let t = &mut s.typology[usize::from(x.typology)];
            t.0 += u64::from(flagged);
            t.1 += 1;
        }
        if let Some(v) = verdict {
            let i = Pattern::ALL.iter().position(|p| *p == v.pattern).unwrap_or(0);
            if x.laundering {
                s.pattern[i].0 += 1;
            } else {
                s.pattern[i].1 += 1;
            }
        }
    }
    s
}

/// One threshold the tuner varies, and the values it tries.
struct Knob {
    name: &'static str,
    values: &'static [f64],
    set: fn(&mut Thresholds, f64),
}

const H: f64 = 3_600_000.0;

const KNOBS: &[Knob] = &[
    Knob {
        name: "fan_in",
        values: &[2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0],
        set: |t, v| t.fan_in = v as usize,
    },
    Knob {
        name: "fan_out",
        values: &[2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0],
        set: |t, v| t.fan_out = v as usize,
    },
    Knob {
        name: "fan_min_amount_cents",
        values: &[0.0, 20_000.0, 50_000.0, 100_000.0, 200_000.0],
        set: |t, v| t.fan_min_amount = v as i64,
    },
    Knob {
        name: "fan_purity",
        values: &[0.0, 0.5, 0.75, 0.9, 1.0],
        set: |t, v| t.fan_purity = v,
    },
    Knob {
        name: "fan_max",
        values: &[12.0, 16.0, 24.0, 32.0, 48.0],
        set: |t, v| t.fan_max = v as usize,
    },
    Knob {
        name: "span_hours",
        values: &[12.0, 24.0, 48.0, 96.0],
        set: |t, v| t.span_ms = (v * H) as i64,
    },
    Knob {
        name: "min_amount_cents",
        values: &[0.0, 5_000.0, 10_000.0, 20_000.0, 50_000.0, 100_000.0],
        set: |t, v| t.min_amount = v as i64,
    },
    Knob {
        name: "gather",
        values: &[2.0, 3.0, 4.0],
        set: |t, v| t.gather = v as usize,
    },
    Knob {
        name: "scatter",
        values: &[2.0, 3.0, 4.0],
        set: |t, v| t.scatter = v as usize,
    },
    Knob {
        name: "bipartite",
        values: &[2.0, 3.0, 4.0],
        set: |t, v| t.bipartite = v as usize,
    },
    Knob {
        name: "pass_through_share",
        values: &[0.8, 0.85, 0.9, 0.95],
        set: |t, v| t.pass_through_share = v,
    },
    Knob {
        name: "pass_through_hours",
        values: &[6.0, 12.0, 24.0, 48.0],
        set: |t, v| t.pass_through_ms = (v * H) as i64,
    },
    Knob {
        name: "pass_through_min_cents",
        values: &[10_000.0, 100_000.0, 500_000.0],
        set: |t, v| t.pass_through_min = v as i64,
    },
    Knob {
        name: "cycle_hours",
        values: &[24.0, 48.0, 96.0, 168.0],
        set: |t, v| t.cycle_ms = (v * H) as i64,
    },
    Knob {
        name: "min_score",
        values: &[0.5, 0.6, 0.7, 0.8, 0.9],
        set: |t, v| t.min_score = v,
    },
    Knob {
        name: "memory_hours",
        values: &[0.0, 6.0, 24.0, 72.0],
        set: |t, v| t.memory_ms = (v * H) as i64,
    },
];

pub fn run(mules: &MulesConfig, file: &Path, patterns: Option<&Path>, tune: bool) -> anyhow::Result<ExitCode> {
    let configured = mules.thresholds()?;
    let listing = match patterns {
        Some(p) => read_patterns(p)?,
        None => HashMap::new(),
    };
    let (samples, skipped) = load(file, listing)?;
    let (Some(first), Some(last)) = (samples.iter().map(|s| s.t.at).min(), samples.iter().map(|s| s.t.at).max()) else {
        anyhow::bail!("{} holds no transactions", file.display());
    };
    let split = first + (last - first) * 6 / 10;
    let warm = first + (last - first) * 2 / 10;
    let laundering = samples.iter().filter(|s| s.laundering).count();
    println!(
        "{}: {} transactions, {laundering} laundering{}; tuning from {} (20% of the time range, after the warm-up) to the split at {} (60%)",
        file.display(),
        samples.len(),
        if skipped > 0 {
            format!(", {skipped} lines skipped")
        } else {
            String::new()
        },
        minute_text(warm),
        minute_text(split),
    );
    let tuned = if tune {
        Some(tune_on(&configured, &samples, warm, split))
    } else {
        None
    };
    let mut columns: Vec<(&str, Score)> = vec![("configured", score(&configured, &samples, Part::Report(split)))];
    if let Some(t) = &tuned {
        columns.push(("tuned", score(t, &samples, Part::Report(split))));
    }
    println!();
    println!("On the last 40% of the time range:");
    print!("{:<28}", "");
    for (name, _) in &columns {
        print!("{name:>14}");
    }
    println!();
    type Row = (&'static str, fn(&Score) -> String);
    let rows: [Row; 6] = [
        ("precision", |s| percent(s.precision())),
        ("recall", |s| percent(s.recall())),
        ("minority-class F1", |s| percent(s.f1())),
        ("true positives", |s| s.tp.to_string()),
        ("false positives", |s| s.fp.to_string()),
        ("false negatives", |s| s.fn_.to_string()),
    ];
    for (name, value) in rows {
        print!("{name:<28}");
        for (_, s) in &columns {
            print!("{:>14}", value(s));
        }
        println!();
    }
    if patterns.is_some() {
        println!();
        println!("Recall per typology (laundering transactions flagged):");
        for (i, name) in std::iter::once("not in the listing").chain(TYPOLOGIES).enumerate() {
            print!("  {name:<26}");
            for (_, s) in &columns {
                let (f, n) = s.typology[i];
                print!("{:>14}", format!("{f}/{n} {}", percent(ratio(f, n))));
            }
            println!();
        }
    }
    println!();
    println!("Precision per pattern flagged (laundering among the transactions it flagged):");
    for (i, p) in Pattern::ALL.iter().enumerate() {
        print!("  {:<26}", p.as_str());
        for (_, s) in &columns {
            let (tp, fp) = s.pattern[i];
            print!("{:>14}", format!("{tp}/{} {}", tp + fp, percent(ratio(tp, tp + fp))));
        }
        println!();
    }
    if let Some(t) = tuned {
        println!();
        println!("Tuned on the first 60% ([mules] in the configuration file):");
        let text = toml::to_string(&MulesConfig::from_thresholds(&t)).unwrap_or_default();
        print!("{text}");
    }
    Ok(ExitCode::SUCCESS)
}

fn percent(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// A time as AMLworld writes it.
fn minute_text(ms: i64) -> String {
    let minutes = ms.div_euclid(60_000);
    let (y, m, d) = amlworld::civil_from_days(minutes.div_euclid(1_440));
    let min = minutes.rem_euclid(1_440);
    format!("{y:04}/{m:02}/{d:02} {:02}:{:02}", min / 60, min % 60)
}

/// Coordinate descent: each knob in turn takes the value with the best F1 on the tuning part,
/// the others held; two rounds.
fn tune_on(start: &Thresholds, samples: &[Sample], warm: i64, split: i64) -> Thresholds {
    let trials: u64 = 2 * KNOBS.iter().map(|k| k.values.len() as u64).sum::<u64>();
    let bar = super::progress(Some(trials), "tuning on the first 60%");
    let mut best = start.clone();
    let mut best_f1 = score(&best, samples, Part::Tune(warm, split)).f1();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    for _round in 0..2 {
        for knob in KNOBS {
            let candidates: Vec<Thresholds> = knob
                .values
                .iter()
                .map(|v| {
                    let mut t = best.clone();
                    (knob.set)(&mut t, *v);
                    t
                })
                .collect();
            let f1s: Vec<f64> = std::thread::scope(|scope| {
                let chunk = candidates.len().div_ceil(threads);
                let handles: Vec<_> = candidates
                    .chunks(chunk.max(1))
                    .map(|part| {
                        let bar = &bar;
                        scope.spawn(move || {
                            part.iter()
                                .map(|t| {
                                    let f = if valid(t) {
                                        score(t, samples, Part::Tune(warm, split)).f1()
                                    } else {
                                        -1.0
                                    };
                                    bar.inc(1);
                                    f
                                })
                                .collect::<Vec<f64>>()
                        })
                    })
                    .collect();
                handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
            });
            for (t, f) in candidates.into_iter().zip(f1s) {
                if f > best_f1 + 1e-9 {
                    best_f1 = f;
                    best = t;
                }
            }
        }
    }
    bar.finish_and_clear();
    eprintln!(
        "tuned: F1 {} on the first 60% ({})",
        percent(best_f1),
        KNOBS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
    );
    best
}

/// Whether the counts stay within the hub bound, as the configuration requires.
fn valid(t: &Thresholds) -> bool {
    [t.fan_in, t.fan_out, t.scatter, t.gather, t.bipartite]
        .iter()
        .all(|v| *v <= t.fan_max)
}

/// The listing: the hash of each attempt line, and its typology.
fn read_patterns(path: &Path) -> anyhow::Result<HashMap<u64, Vec<u8>>> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut out: HashMap<u64, Vec<u8>> = HashMap::new();
    let mut current: Option<u8> = None;
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("{}: line {}", path.display(), n + 1))?;
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("BEGIN LAUNDERING ATTEMPT - ") {
            let name = rest.split(':').next().unwrap_or("").trim();
            current = TYPOLOGIES.iter().position(|t| *t == name).map(|i| i as u8 + 1);
            if current.is_none() {
                anyhow::bail!("{}: line {}: unknown typology {name:?}", path.display(), n + 1);
            }
        } else if line.starts_with("END LAUNDERING ATTEMPT") {
            current = None;
        } else if let (Some(t), false) = (current, line.is_empty()) {
            out.entry(line_hash(line.as_bytes())).or_default().push(t);
        }
    }
    Ok(out)
}

fn line_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn load(file: &Path, mut listing: HashMap<u64, Vec<u8>>) -> anyhow::Result<(Vec<Sample>, u64)> {
    let input = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let size = input.metadata().map(|m| m.len()).ok();
    let input = super::ProgressRead::new(input, size, "reading");
    let mut reader = Reader::new(input, true).with_context(|| format!("cannot read {}", file.display()))?;
    let mut samples = Vec::new();
    let mut skipped = 0u64;
    let mut joined: Vec<u8> = Vec::with_capacity(160);
    while let Some(line) = reader.next_line() {
        match line {
            Ok(line) => {
                let mut typology = 0;
                if line.laundering && !listing.is_empty() {
                    joined.clear();
                    for (i, field) in reader.record().iter().enumerate() {
                        if i > 0 {
                            joined.push(b',');
                        }
                        joined.extend_from_slice(field);
                    }
                    if let Some(list) = listing.get_mut(&line_hash(&joined)) {
                        typology = list.pop().unwrap_or(0);
                    }
                }
                samples.push(Sample {
                    t: line.transfer,
                    laundering: line.laundering,
                    typology,
                });
            }
            Err(e) => {
                skipped += 1;
                if skipped <= super::NAMED_ERRORS {
                    eprintln!("skipped {e}");
                }
            }
        }
    }
    Ok((samples, skipped))
}
