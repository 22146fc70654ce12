//! Helpers shared by the libraries.

use interp::{Action, Context, Error, NativeFn, Table, Value};

/// The result type of a library function.
pub type Ret<'gc> = Result<Action<'gc>, Error<'gc>>;

/// Sets `name = function` in `t` for each entry.
pub fn register<'gc>(ctx: Context<'gc>, t: Table<'gc>, funcs: &[(&'static str, NativeFn)]) {
    for &(name, f) in funcs {
        let k = ctx.intern_static(name.as_bytes());
        t.set_str(ctx.mutation(), k, ctx.native(name, f));
    }
}

/// The name of a native function that no library table holds (an iterator, a method, a
/// metamethod): C Lua finds no global name for it, so messages and tracebacks name it by
/// how it was called, or `?`.
pub const UNNAMED: &str = "?";

/// Stores `funcs` in `t` as functions without a global name ([`UNNAMED`]): methods.
pub fn register_methods<'gc>(ctx: Context<'gc>, t: Table<'gc>, funcs: &[(&'static str, NativeFn)]) {
    for &(name, f) in funcs {
        let k = ctx.intern_static(name.as_bytes());
        t.set_str(ctx.mutation(), k, ctx.native(UNNAMED, f));
    }
}

/// A new table holding `funcs`, stored as global `name` and in `package.loaded`. The
/// functions are named `name.f` (as C Lua's tracebacks name them).
pub fn new_lib<'gc>(
    ctx: Context<'gc>,
    name: &'static str,
    funcs: &[(&'static str, NativeFn)],
) -> Table<'gc> {
    let t = Table::with_capacity(ctx.mutation(), 0, funcs.len());
    for &(fname, f) in funcs {
        let full = qualified_name(name, fname);
        t.set_str(
            ctx.mutation(),
            ctx.intern_static(fname.as_bytes()),
            ctx.native(full, f),
        );
    }
    ctx.set_global(name, Value::Table(t));
    t
}

/// `"lib.name"` as a `'static` string: each distinct name is allocated once per process
/// (natives carry `'static` names), however many runtimes open the library.
pub(crate) fn qualified_name(lib: &'static str, name: &'static str) -> &'static str {
    use std::sync::{Mutex, OnceLock};
    // Keyed by the addresses of the two literals (cheap to hash; the same literal always has
    // the same address, and a copy elsewhere only adds one entry).
    type Names = hashbrown::HashMap<(usize, usize, usize), &'static str>;
    static NAMES: OnceLock<Mutex<Names>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let key = (
        lib.as_ptr() as usize,
        name.as_ptr() as usize,
        name.len() << 16 | lib.len(),
    );
    names
        .entry(key)
        .or_insert_with(|| Box::leak(format!("{lib}.{name}").into_boxed_str()))
}

/// The text C's `strerror` gives for common I/O errors.
pub fn io_error_text(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "No such file or directory".into(),
        PermissionDenied => "Permission denied".into(),
        AlreadyExists => "File exists".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(p) => s[..p].to_string(),
                None => s,
            }
        }
    }
}

/// CPU time used by the process, in seconds (`clock()`).
pub fn process_cpu_seconds() -> f64 {
    // /proc/self/stat fields 14 and 15 are utime and stime in clock ticks.
    if let Ok(s) = std::fs::read_to_string("/proc/self/stat") {
        if let Some(end) = s.rfind(')') {
            let fields: Vec<&str> = s[end + 2..].split(' ').collect();
            if fields.len() > 13 {
                let ut: f64 = fields[11].parse().unwrap_or(0.0);
                let st: f64 = fields[12].parse().unwrap_or(0.0);
                return (ut + st) / 100.0;
            }
        }
    }
    0.0
}

/// Broken-down time.
pub struct Tm {
    /// Year.
    pub year: i64,
    /// Month 1-12.
    pub month: i64,
    /// Day of month 1-31.
    pub day: i64,
    /// Hour.
    pub hour: i64,
    /// Minute.
    pub min: i64,
    /// Second.
    pub sec: i64,
    /// Day of week, 0 = Sunday.
    pub wday: i64,
    /// Day of year, 0-based.
    pub yday: i64,
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Seconds since the epoch for a UTC date, normalising out-of-range fields like `mktime`.
pub fn timegm(year: i64, month: i64, day: i64, hour: i64, min: i64, sec: i64) -> i64 {
    let m0 = month - 1;
    let y = year + m0.div_euclid(12);
    let m = m0.rem_euclid(12) + 1;
    let days = days_from_civil(y, m, 1) + day - 1;
    days * 86400 + hour * 3600 + min * 60 + sec
}

/// UTC broken-down time of `t`.
pub fn gmtime(t: i64) -> Tm {
    let days = t.div_euclid(86400);
    let secs = t.rem_euclid(86400);
    let z = days + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = if m <= 2 { y + 1 } else { y };
    let yday = days - days_from_civil(year, 1, 1);
    Tm {
        year,
        month: m,
        day: d,
        hour: secs / 3600,
        min: secs % 3600 / 60,
        sec: secs % 60,
        wday: (days + 4).rem_euclid(7),
        yday,
    }
}

const WDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `strftime` in the C locale for the conversions C99 defines.
pub fn strftime(fmt: &[u8], tm: &Tm) -> Result<Vec<u8>, Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        i += 1;
        if c != b'%' {
            out.push(c);
            continue;
        }
        let Some(&first) = fmt.get(i) else {
            return Err(Vec::new());
        };
        let mut conv = first;
        i += 1;
        if conv == b'E' || conv == b'O' {
            // C99's modified conversions only.
            let valid: &[u8] = if conv == b'E' {
                b"cCxXyY"
            } else {
                b"deHImMSuUVwWy"
            };
            match fmt.get(i) {
                Some(&c) if valid.contains(&c) => conv = c,
                Some(&c) => return Err(vec![first, c]),
                None => return Err(vec![first]),
            }
            i += 1;
        }
        let s = match conv {
            b'a' => WDAYS[tm.wday as usize][..3].to_string(),
            b'A' => WDAYS[tm.wday as usize].to_string(),
            b'b' | b'h' => MONTHS[(tm.month - 1) as usize][..3].to_string(),
            b'B' => MONTHS[(tm.month - 1) as usize].to_string(),
            b'c' => format!(
                "{} {} {:2} {:02}:{:02}:{:02} {}",
                &WDAYS[tm.wday as usize][..3],
                &MONTHS[(tm.month - 1) as usize][..3],
                tm.day,
                tm.hour,
                tm.min,
                tm.sec,
                tm.year
            ),
            b'C' => format!("{:02}", tm.year / 100),
            b'd' => format!("{:02}", tm.day),
            b'D' => format!("{:02}/{:02}/{:02}", tm.month, tm.day, tm.year % 100),
            b'e' => format!("{:2}", tm.day),
            b'F' => format!("{}-{:02}-{:02}", tm.year, tm.month, tm.day),
            b'g' => format!("{:02}", iso_year(tm) % 100),
            b'G' => format!("{}", iso_year(tm)),
            b'H' => format!("{:02}", tm.hour),
            b'I' => format!("{:02}", if tm.hour % 12 == 0 { 12 } else { tm.hour % 12 }),
            b'j' => format!("{:03}", tm.yday + 1),
            b'm' => format!("{:02}", tm.month),
            b'M' => format!("{:02}", tm.min),
            b'n' => "\n".to_string(),
            b'p' => (if tm.hour < 12 { "AM" } else { "PM" }).to_string(),
            b'r' => format!(
                "{:02}:{:02}:{:02} {}",
                if tm.hour % 12 == 0 { 12 } else { tm.hour % 12 },
                tm.min,
                tm.sec,
                if tm.hour < 12 { "AM" } else { "PM" }
            ),
            b'R' => format!("{:02}:{:02}", tm.hour, tm.min),
            b'S' => format!("{:02}", tm.sec),
            b't' => "\t".to_string(),
            b'T' => format!("{:02}:{:02}:{:02}", tm.hour, tm.min, tm.sec),
            b'u' => format!("{}", if tm.wday == 0 { 7 } else { tm.wday }),
            b'U' => format!("{:02}", (tm.yday + 7 - tm.wday) / 7),
            b'V' => format!("{:02}", iso_week(tm)),
            b'w' => format!("{}", tm.wday),
            b'W' => format!("{:02}", (tm.yday + 7 - (tm.wday + 6) % 7) / 7),
            b'x' => format!("{:02}/{:02}/{:02}", tm.month, tm.day, tm.year % 100),
            b'X' => format!("{:02}:{:02}:{:02}", tm.hour, tm.min, tm.sec),
            b'y' => format!("{:02}", tm.year % 100),
            b'Y' => format!("{}", tm.year),
            b'z' => "+0000".to_string(),
            b'Z' => "UTC".to_string(),
            b'%' => "%".to_string(),
            other => return Err(vec![other]),
        };
        out.extend_from_slice(s.as_bytes());
    }
    Ok(out)
}

fn iso_week_parts(tm: &Tm) -> (i64, i64) {
    let wday = (tm.wday + 6) % 7; // Monday = 0
    let mut week = (tm.yday - wday + 10) / 7;
    let mut year = tm.year;
    let is_leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if week < 1 {
        year -= 1;
        let days_prev = if is_leap(year) { 366 } else { 365 };
        week = (tm.yday + days_prev - wday + 10) / 7;
    } else {
        let days = if is_leap(year) { 366 } else { 365 };
        if week == 53 && (tm.yday - wday + 3) >= days {
            week = 1;
            year += 1;
        }
    }
    (year, week)
}

fn iso_year(tm: &Tm) -> i64 {
    iso_week_parts(tm).0
}

fn iso_week(tm: &Tm) -> i64 {
    iso_week_parts(tm).1
}
