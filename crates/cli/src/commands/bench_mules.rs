//! `vangnet bench mules`: the money-mule detectors on one core, beside a plain baseline from
//! the same run. A synthetic AMLworld-form file (`vangnet mules generate`'s world) is made in
//! memory; then, alternating, each timed `runs` times with the median reported:
//!
//! - parse: read and parse every CSV line into a transfer, nothing else (the baseline: what
//!   reading the file costs at all);
//! - detect: every detector and the verdict per transfer (`Monitor::observe`) over the parsed
//!   transfers, as the server runs them;
//! - both: parse and detect, as `vangnet mules detect` does (without writing its output).

use std::hint::black_box;
use std::time::Instant;

use vangnet_core::mules::{Flag, Monitor, Thresholds, Transfer};

use crate::amlworld::{HEADER, Reader};
use crate::synth_mules::{Profile, World};

fn parse(csv: &[u8]) -> Vec<Transfer> {
    let mut reader = match Reader::new(csv, false) {
        Ok(r) => r,
        Err(_) => return Vec::new(),
    };
    let mut out = Vec::new();
    while let Some(line) = reader.next_line() {
        if let Ok(line) = line {
            out.push(line.transfer);
        }
    }
    out
}

fn detect(thresholds: &Thresholds, transfers: &[Transfer]) -> u64 {
    let mut monitor = Monitor::new(thresholds.clone());
    let mut flags: Vec<Flag> = Vec::new();
    let mut flagged = 0u64;
    for t in transfers {
        flags.clear();
        flagged += u64::from(monitor.observe(t, &mut flags).is_some());
    }
    flagged
}

pub fn run(thresholds: &Thresholds, transactions: u64, runs: usize) -> anyhow::Result<()> {
    let bar = super::progress(Some(transactions), "generating");
    let mut csv: Vec<u8> = Vec::with_capacity(transactions as usize * 110);
    csv.extend_from_slice(HEADER.as_bytes());
    csv.push(b'\n');
    let mut line = String::with_capacity(160);
    let mut dates = super::mules::DateCache::default();
    let mut n = 0u64;
    World::new(Profile::Hi, transactions, 1).generate(
        |book, row| {
            line.clear();
            super::mules::format_row(book, row, &mut dates, &mut line);
            csv.extend_from_slice(line.as_bytes());
            csv.push(b'\n');
            n += 1;
            if n.is_multiple_of(65_536) {
                bar.set_position(n);
            }
        },
        |_, _| {},
    );
    bar.finish_and_clear();
    let transfers = parse(&csv);
    let count = transfers.len() as f64;
    println!(
        "{} transactions ({} MiB of CSV), {runs} runs each, one core, medians:",
        transfers.len(),
        csv.len() >> 20
    );
    let (mut parse_s, mut detect_s, mut both_s) = (Vec::new(), Vec::new(), Vec::new());
    let mut flagged = 0;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        black_box(parse(black_box(&csv)).len());
        parse_s.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        flagged = black_box(detect(thresholds, black_box(&transfers)));
        detect_s.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        black_box(detect(thresholds, &parse(black_box(&csv))));
        both_s.push(started.elapsed().as_secs_f64());
    }
    for (name, secs) in [
        ("parse (baseline)", super::median(parse_s)),
        ("detect (all detectors)", super::median(detect_s)),
        ("parse + detect", super::median(both_s)),
    ] {
        println!("  {name:<24} {:>12.0} transactions/s  ({secs:.2} s)", count / secs);
    }
    println!("  {flagged} flagged; peak memory {} MiB", super::peak_rss().unwrap_or(0) / 1_024);
    Ok(())
}
