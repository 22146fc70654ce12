//! Running a program under two interpreters, comparing what they print, and shrinking a
//! program that differs to the cases (and lines) that make it differ.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Program;

/// What one run of an interpreter did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The exit code (`None`: killed by a signal or by the timeout).
    pub status: Option<i32>,
    /// Standard output, with addresses masked (see [`mask_addresses`]).
    pub stdout: Vec<u8>,
    /// Standard error, likewise.
    pub stderr: Vec<u8>,
    /// The run was stopped at the timeout.
    pub timed_out: bool,
}

/// Runs `exe file` in `dir`, its program name `lua` (so messages read alike), for at most
/// `timeout`.
pub fn run(exe: &Path, dir: &Path, file: &str, timeout: Duration) -> Outcome {
    let mut command = Command::new(exe);
    #[cfg(unix)]
    std::os::unix::process::CommandExt::arg0(&mut command, "lua");
    let mut child = command
        .arg(file)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let mut stderr = Vec::new();
    let err_reader = std::thread::spawn(move || {
        let _ = err.read_to_end(&mut stderr);
        stderr
    });
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            timed_out = true;
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    Outcome {
        status: status.code(),
        stdout: mask_addresses(&reader.join().unwrap()),
        stderr: mask_addresses(&err_reader.join().unwrap()),
        timed_out,
    }
}

/// Replaces the digits of addresses (`: 0x55d0c8f5e2a0`, `(0x7f99f0143760)`: how
/// `tostring` shows tables, functions and files; also cut short by a format's precision)
/// by `ADDR`: they differ from run to run.
pub fn mask_addresses(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let after_sep = i >= 1 && (text[i - 1] == b'(' || (i >= 2 && &text[i - 2..i] == b": "));
        if after_sep && text[i..].starts_with(b"0x") {
            let digits = text[i + 2..]
                .iter()
                .take_while(|c| c.is_ascii_hexdigit())
                .count();
            // At least 3 digits: `%.17s` of "function: 0x55..." keeps only a few.
            if digits >= 3 {
                out.extend_from_slice(b"0xADDR");
                i += 2 + digits;
                continue;
            }
        }
        out.push(text[i]);
        i += 1;
    }
    out
}

/// The output of a program split at its case markers (`#n` lines): the marker and the
/// lines after it. Lines before the first marker go under an empty marker.
fn sections(stdout: &[u8]) -> Vec<(String, Vec<&[u8]>)> {
    let mut v: Vec<(String, Vec<&[u8]>)> = vec![(String::new(), Vec::new())];
    for line in stdout.split(|&c| c == b'\n') {
        if line.first() == Some(&b'#') && line[1..].iter().all(|c| c.is_ascii_alphanumeric()) {
            v.push((String::from_utf8_lossy(&line[1..]).into_owned(), Vec::new()));
        } else {
            v.last_mut().unwrap().1.push(line);
        }
    }
    v
}

/// How two runs of the same program compare.
#[derive(Clone, Debug, Default)]
pub struct Comparison {
    /// Results compared: the oracle's output lines (less markers), plus one for the exit
    /// status and one for standard error.
    pub checked: usize,
    /// Results that differ.
    pub differing: usize,
    /// The marker of the first case whose output differs (`tail`, `exit`, `stderr`...).
    pub first_case: Option<String>,
    /// The first differing line of each: the oracle's, then ours.
    pub first_lines: Option<(String, String)>,
    /// Every differing pair of lines (the oracle's, then ours), up to 100.
    pub all_lines: Vec<(String, String)>,
}

/// Whether two output lines say the same. With `libm_tolerant`, numbers in them that differ
/// only as two C math libraries' results may (glibc's and musl's, which WASI programs use:
/// within 2 units in the last place, or NaNs of either sign) count as the same.
pub fn same_line(a: &[u8], b: &[u8], libm_tolerant: bool) -> bool {
    if a == b {
        return true;
    }
    if !libm_tolerant {
        return false;
    }
    let words = |l: &[u8]| -> Vec<Vec<u8>> {
        l.split(|&c| c == b' ' || c == b'\t' || c == b'/' || c == b',')
            .map(<[u8]>::to_vec)
            .collect()
    };
    let (wa, wb) = (words(a), words(b));
    wa.len() == wb.len()
        && wa
            .iter()
            .zip(&wb)
            .all(|(x, y)| x == y || close_numbers(x, y))
}

/// Two printed floats within 2 units in the last place (or both NaN).
fn close_numbers(x: &[u8], y: &[u8]) -> bool {
    let num = |w: &[u8]| std::str::from_utf8(w).ok()?.trim().parse::<f64>().ok();
    match (num(x), num(y)) {
        (Some(p), Some(q)) if p.is_nan() && q.is_nan() => true,
        (Some(p), Some(q)) if p.is_finite() && q.is_finite() && p.signum() == q.signum() => {
            (p.to_bits() as i64 - q.to_bits() as i64).abs() <= 2
                // Printed with fewer digits (`%.14g`): the last digit may differ by one.
                || (p - q).abs() <= p.abs().max(q.abs()) * 1e-13
        }
        _ => false,
    }
}

/// Compares our outcome with the oracle's, case by case.
pub fn compare(oracle: &Outcome, ours: &Outcome) -> Comparison {
    compare_with(oracle, ours, false)
}

/// [`compare`], with numbers compared as [`same_line`] does when `libm_tolerant`.
pub fn compare_with(oracle: &Outcome, ours: &Outcome, libm_tolerant: bool) -> Comparison {
    let mut c = Comparison::default();
    let (a, b) = (sections(&oracle.stdout), sections(&ours.stdout));
    let text =
        |l: Option<&&[u8]>| l.map_or("<none>".into(), |l| String::from_utf8_lossy(l).into_owned());
    for i in 0..a.len().max(b.len()) {
        let (ma, la) = a
            .get(i)
            .map_or(("?", &[][..]), |(m, l)| (m.as_str(), &l[..]));
        let (mb, lb) = b
            .get(i)
            .map_or(("?", &[][..]), |(m, l)| (m.as_str(), &l[..]));
        c.checked += la.len();
        let mut bad = usize::from(ma != mb);
        for j in 0..la.len().max(lb.len()) {
            let same = match (la.get(j), lb.get(j)) {
                (Some(x), Some(y)) => same_line(x, y, libm_tolerant),
                (x, y) => x == y,
            };
            if !same {
                bad += 1;
                if c.all_lines.len() < 100 {
                    c.all_lines.push((text(la.get(j)), text(lb.get(j))));
                }
                if c.first_case.is_none() {
                    c.first_case = Some(ma.to_string());
                    c.first_lines = Some((text(la.get(j)), text(lb.get(j))));
                }
            }
        }
        if bad > 0 && c.first_case.is_none() {
            c.first_case = Some(ma.to_string());
            c.first_lines = Some((format!("#{ma}"), format!("#{mb}")));
        }
        c.differing += bad.min(la.len().max(1));
    }
    c.checked += 2;
    for (what, same, x, y) in [
        (
            "exit",
            oracle.status == ours.status && !ours.timed_out,
            format!("{:?}", oracle.status),
            format!(
                "{:?}{}",
                ours.status,
                if ours.timed_out { " (timed out)" } else { "" }
            ),
        ),
        (
            "stderr",
            oracle.stderr == ours.stderr,
            String::from_utf8_lossy(&oracle.stderr).into_owned(),
            String::from_utf8_lossy(&ours.stderr).into_owned(),
        ),
    ] {
        if !same {
            c.differing += 1;
            c.all_lines.push((x.clone(), y.clone()));
            if c.first_case.is_none() {
                c.first_case = Some(what.to_string());
                c.first_lines = Some((x, y));
            }
        }
    }
    c
}

/// The two interpreters and a folder to run programs in.
pub struct Runner {
    /// C Lua 5.4.8.
    pub oracle: PathBuf,
    /// `lua-rs`.
    pub ours: PathBuf,
    /// Where programs are written (one file per runner: give each worker its own folder).
    pub dir: PathBuf,
    /// Longest run of either interpreter.
    pub timeout: Duration,
    /// Compare numbers as results of different C math libraries (see [`same_line`]).
    pub libm_tolerant: bool,
}

/// The result of running one program under both interpreters.
pub enum Verdict {
    /// The oracle did not finish in time: nothing to compare.
    Skipped,
    /// Both printed the same.
    Same(Comparison),
    /// They differ.
    Differ(Comparison),
}

impl Runner {
    /// Runs `source` under both interpreters and compares.
    pub fn check(&self, source: &str) -> Verdict {
        std::fs::write(self.dir.join("prog.lua"), source).expect("write program");
        let oracle = run(&self.oracle, &self.dir, "prog.lua", self.timeout);
        if oracle.timed_out {
            return Verdict::Skipped;
        }
        let ours = run(&self.ours, &self.dir, "prog.lua", self.timeout);
        let c = compare_with(&oracle, &ours, self.libm_tolerant);
        if c.differing == 0 {
            Verdict::Same(c)
        } else {
            Verdict::Differ(c)
        }
    }

    fn differs(&self, source: &str) -> bool {
        matches!(self.check(source), Verdict::Differ(_))
    }

    /// Shrinks a differing program: first to the case that differs (alone, or with the
    /// fewest earlier cases it needs), then line by line.
    pub fn minimize(&self, p: &Program, first_case: Option<&str>) -> String {
        let k = first_case
            .and_then(|m| m.parse::<usize>().ok())
            .filter(|&k| k < p.cases.len());
        let mut best = match k {
            Some(k) => {
                let alone = Program {
                    cases: vec![p.cases[k].clone()],
                    tail: None,
                };
                if self.differs(&alone.source()) {
                    alone
                } else {
                    self.shrink_cases(p, k)
                }
            }
            None => {
                // The tail, the exit status or stderr: try the tail alone first.
                let alone = Program {
                    cases: Vec::new(),
                    tail: p.tail.clone(),
                };
                if self.differs(&alone.source()) {
                    alone
                } else {
                    p.clone()
                }
            }
        };
        // Line by line within the remaining cases.
        let mut i = 0;
        while i < best.cases.len() {
            let lines: Vec<&str> = best.cases[i].lines().collect();
            if lines.len() > 1 {
                let mut keep: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
                let mut j = 0;
                while j < keep.len() {
                    let mut trial = keep.clone();
                    trial.remove(j);
                    let mut cand = best.clone();
                    cand.cases[i] = trial.join("\n") + "\n";
                    if self.differs(&cand.source()) {
                        keep = trial;
                        best = cand;
                    } else {
                        j += 1;
                    }
                }
            }
            i += 1;
        }
        best.source()
    }

    /// Removes earlier cases (halves, then single ones) while case `k` still differs.
    fn shrink_cases(&self, p: &Program, k: usize) -> Program {
        let mut cases: Vec<String> = p.cases[..=k].to_vec();
        let mut chunk = cases.len() / 2;
        while chunk >= 1 {
            let mut start = 0;
            while start + 1 < cases.len() {
                let end = (start + chunk).min(cases.len() - 1);
                if end <= start {
                    break;
                }
                let mut trial = cases.clone();
                trial.drain(start..end);
                let cand = Program {
                    cases: trial.clone(),
                    tail: None,
                };
                if self.differs(&cand.source()) {
                    cases = trial;
                } else {
                    start = end;
                }
            }
            chunk /= 2;
        }
        Program { cases, tail: None }
    }
}

#[cfg(test)]
mod tests {
    use super::same_line;

    #[test]
    fn libm_tolerance_accepts_only_last_place_and_nan_sign_differences() {
        let t = |a: &str, b: &str| same_line(a.as_bytes(), b.as_bytes(), true);
        assert!(t("2:\ttrue nan/nan", "2:\ttrue -nan/-nan"));
        assert!(t(
            "true 1.5747025569269/1.5747025569268636",
            "true 1.5747025569269/1.5747025569268638"
        ));
        assert!(!t("true 1.5/1.5", "true 1.6/1.6"));
        assert!(!t("true 1/1", "true -1/-1"));
        assert!(!t("nan", "inf"));
        assert!(!t("true x", "false x"));
        assert!(!same_line(b"nan", b"-nan", false));
    }
}
