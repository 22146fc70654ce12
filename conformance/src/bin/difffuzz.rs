//! `difffuzz`: the differential fuzzer's command. Generates programs (see
//! `lupa_conformance::differential`), runs each under C Lua 5.4.8 and `lua-rs`, prints what
//! differs, and writes each differing program, minimized, to the output folder.
//!
//! usage: difffuzz [--seed S] [--count N] [--cases K] [--jobs J] [--timeout SECONDS]
//!                 [--oracle PATH] [--lua-rs PATH] [--out DIR] [--report N] [--no-minimize]
//!                 [--diffs FILE]   (every differing pair of lines, `C\t...` then `R\t...`)
//!                 [--libm-tolerant] (numbers within 2 ulps, and NaNs of either sign, are the
//!                                    same: for a lua-rs on another C math library, as WASI's)
//!        difffuzz --print INDEX [--seed S] [--cases K]    (one program's source)
//!
//! Exit status: 0 when every program printed the same under both, 1 otherwise.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lupa_conformance::differential::harness::{Runner, Verdict};
use lupa_conformance::differential::program;

struct Options {
    seed: u64,
    count: u64,
    cases: usize,
    jobs: usize,
    timeout: Duration,
    oracle: Option<PathBuf>,
    ours: PathBuf,
    out: PathBuf,
    report: usize,
    minimize: bool,
    print: Option<u64>,
    diffs: Option<PathBuf>,
    libm_tolerant: bool,
}

fn parse() -> Options {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut o = Options {
        seed: 1,
        count: 200,
        cases: 30,
        jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
        timeout: Duration::from_secs(20),
        oracle: None,
        ours: std::env::current_exe()
            .ok()
            .and_then(|p| Some(p.parent()?.join("lua-rs")))
            .unwrap_or_else(|| PathBuf::from("lua-rs")),
        out: root.join(".cache/difffuzz"),
        report: 20,
        minimize: true,
        print: None,
        diffs: None,
        libm_tolerant: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    let usage = || -> ! {
        eprintln!(
            "usage: difffuzz [--seed S] [--count N] [--cases K] [--jobs J] [--timeout S] \
             [--oracle PATH] [--lua-rs PATH] [--out DIR] [--report N] [--no-minimize] [--print INDEX] [--diffs FILE] \
             [--libm-tolerant]"
        );
        std::process::exit(2)
    };
    while i < args.len() {
        let val = |i: usize| args.get(i + 1).cloned().unwrap_or_else(|| usage());
        match args[i].as_str() {
            "--seed" => o.seed = val(i).parse().unwrap_or_else(|_| usage()),
            "--count" => o.count = val(i).parse().unwrap_or_else(|_| usage()),
            "--cases" => o.cases = val(i).parse().unwrap_or_else(|_| usage()),
            "--jobs" => o.jobs = val(i).parse().unwrap_or_else(|_| usage()),
            "--timeout" => {
                o.timeout = Duration::from_secs_f64(val(i).parse().unwrap_or_else(|_| usage()))
            }
            "--oracle" => o.oracle = Some(PathBuf::from(val(i))),
            "--lua-rs" => o.ours = PathBuf::from(val(i)),
            "--out" => o.out = PathBuf::from(val(i)),
            "--report" => o.report = val(i).parse().unwrap_or_else(|_| usage()),
            "--print" => o.print = Some(val(i).parse().unwrap_or_else(|_| usage())),
            "--diffs" => o.diffs = Some(PathBuf::from(val(i))),
            "--no-minimize" => {
                o.minimize = false;
                i += 1;
                continue;
            }
            "--libm-tolerant" => {
                o.libm_tolerant = true;
                i += 1;
                continue;
            }
            _ => usage(),
        }
        i += 2;
    }
    o
}

/// A line cut to 200 characters for the report.
fn clip(s: &str) -> String {
    match s.char_indices().nth(200) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

fn main() {
    let o = parse();
    if let Some(index) = o.print {
        print!("{}", program(o.seed, index, o.cases).source());
        return;
    }
    let oracle = match &o.oracle {
        Some(p) => {
            std::env::set_var("LUA_ORACLE", p);
            lupa_conformance::oracle::lua()
        }
        None => lupa_conformance::oracle::lua(),
    };
    std::fs::create_dir_all(&o.out).expect("create the output folder");
    let started = Instant::now();
    let next = AtomicU64::new(0);
    let (checked, differing) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let (skipped, bad_programs) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let reports = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for w in 0..o.jobs.max(1) {
            let dir = std::env::temp_dir().join(format!("difffuzz-{}-{w}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("create a work folder");
            let runner = Runner {
                oracle: oracle.clone(),
                ours: o.ours.clone(),
                dir,
                timeout: o.timeout,
                libm_tolerant: o.libm_tolerant,
            };
            let (next, checked, differing, skipped, bad_programs, reports, o) = (
                &next,
                &checked,
                &differing,
                &skipped,
                &bad_programs,
                &reports,
                &o,
            );
            s.spawn(move || loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= o.count {
                    let _ = std::fs::remove_dir_all(&runner.dir);
                    return;
                }
                let p = program(o.seed, index, o.cases);
                match runner.check(&p.source()) {
                    Verdict::Skipped => {
                        skipped.fetch_add(1, Ordering::Relaxed);
                        eprintln!("program {index}: skipped, the oracle timed out");
                    }
                    Verdict::Same(c) => {
                        checked.fetch_add(c.checked, Ordering::Relaxed);
                    }
                    Verdict::Differ(c) => {
                        checked.fetch_add(c.checked, Ordering::Relaxed);
                        differing.fetch_add(c.differing, Ordering::Relaxed);
                        let nbad = bad_programs.fetch_add(1, Ordering::Relaxed);
                        let path = o.out.join(format!("seed{}-{index}.lua", o.seed));
                        let source = if o.minimize && nbad < o.report {
                            runner.minimize(&p, c.first_case.as_deref())
                        } else {
                            p.source()
                        };
                        let (want, got) = c.first_lines.clone().unwrap_or_default();
                        let header = format!(
                            "-- difffuzz --seed {} --print {index} (case {}), minimized\n-- C Lua: {}\n-- lua-rs: {}\n",
                            o.seed,
                            c.first_case.as_deref().unwrap_or("?"),
                            want.replace('\n', "\n--   "),
                            got.replace('\n', "\n--   ")
                        );
                        let _ = std::fs::write(&path, header + &source);
                        reports.lock().unwrap().push((index, c, path));
                    }
                }
            });
        }
    });
    let mut reports = reports.into_inner().unwrap();
    reports.sort_by_key(|r| r.0);
    if let Some(path) = &o.diffs {
        let mut text = String::new();
        for (index, c, _) in &reports {
            for (a, b) in &c.all_lines {
                text.push_str(&format!("P\t{index}\nC\t{a}\nR\t{b}\n"));
            }
        }
        std::fs::write(path, text).expect("write the diffs file");
    }
    for (index, c, path) in reports.iter().take(o.report) {
        let (want, got) = c.first_lines.clone().unwrap_or_default();
        println!(
            "program {index} (case {}): {} results differ, see {}\n  C Lua:  {}\n  lua-rs: {}",
            c.first_case.as_deref().unwrap_or("?"),
            c.differing,
            path.display(),
            clip(want.lines().next().unwrap_or("")),
            clip(got.lines().next().unwrap_or(""))
        );
    }
    let bad = bad_programs.load(Ordering::Relaxed);
    println!(
        "difffuzz: seed {}, {} programs of {} cases in {:.1}s ({} skipped: the oracle timed out); \
         {} results compared, {} differ; {} programs differ",
        o.seed,
        o.count,
        o.cases,
        started.elapsed().as_secs_f64(),
        skipped.load(Ordering::Relaxed),
        checked.load(Ordering::Relaxed),
        differing.load(Ordering::Relaxed),
        bad
    );
    std::process::exit(if bad == 0 { 0 } else { 1 });
}
