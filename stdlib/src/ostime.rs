//! Time for the os library, as loslib.c gets it from the C library: `time`, `clock`,
//! `gmtime_r`, `localtime_r`, `mktime` and `strftime`. On unix these are the platform's own
//! (through `libc`), so local time follows `TZ` and the time zone database exactly as C Lua
//! does and `strftime` prints what it prints, without reimplementing tzfile parsing or
//! strftime. Elsewhere (wasm) [`pure`] stands in: local time is UTC.

/// A broken-down time, with `struct tm`'s conventions (year since 1900, month 0-11, day of
/// the week 0-6 from Sunday, day of the year 0-365, `isdst` negative when unknown).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Tm {
    pub year: i32,
    pub mon: i32,
    pub mday: i32,
    pub hour: i32,
    pub min: i32,
    pub sec: i32,
    pub wday: i32,
    pub yday: i32,
    pub isdst: i32,
    /// The C library's own `struct tm` (its zone name and offset, for `%Z` and `%z`).
    #[cfg(unix)]
    c: Option<CTm>,
    /// Made by `gmtime` (the pure version's `%Z` is "GMT" then, "UTC" for local time).
    #[cfg_attr(unix, allow(dead_code))]
    gmt: bool,
}

impl Tm {
    /// The fields `mktime` reads.
    pub fn new(year: i32, mon: i32, mday: i32, hour: i32, min: i32, sec: i32, isdst: i32) -> Tm {
        Tm {
            year,
            mon,
            mday,
            hour,
            min,
            sec,
            isdst,
            ..Tm::default()
        }
    }
}

#[cfg(unix)]
#[derive(Clone, Copy)]
struct CTm(libc::tm);

#[cfg(unix)]
impl std::fmt::Debug for CTm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("tm")
    }
}

#[cfg(unix)]
impl PartialEq for CTm {
    fn eq(&self, _: &CTm) -> bool {
        true
    }
}

#[cfg(unix)]
impl Eq for CTm {}

#[cfg(unix)]
mod sys {
    use super::{CTm, Tm};

    fn zeroed_tm() -> libc::tm {
        // SAFETY: `struct tm` is plain data (integers and a `tm_zone` pointer that may be
        // null); all zeroes is a valid value of it.
        unsafe { std::mem::zeroed() }
    }

    fn from_c(c: &libc::tm) -> Tm {
        Tm {
            year: c.tm_year,
            mon: c.tm_mon,
            mday: c.tm_mday,
            hour: c.tm_hour,
            min: c.tm_min,
            sec: c.tm_sec,
            wday: c.tm_wday,
            yday: c.tm_yday,
            isdst: c.tm_isdst,
            c: Some(CTm(*c)),
            gmt: false,
        }
    }

    fn to_c(t: &Tm) -> libc::tm {
        let mut c = match t.c {
            Some(CTm(c)) => c,
            None => zeroed_tm(),
        };
        c.tm_year = t.year;
        c.tm_mon = t.mon;
        c.tm_mday = t.mday;
        c.tm_hour = t.hour;
        c.tm_min = t.min;
        c.tm_sec = t.sec;
        c.tm_wday = t.wday;
        c.tm_yday = t.yday;
        c.tm_isdst = t.isdst;
        c
    }

    pub fn gmtime(t: i64) -> Option<Tm> {
        let tt = t as libc::time_t;
        let mut c = zeroed_tm();
        // SAFETY: both pointers are to valid, live values; gmtime_r writes only `c`.
        let r = unsafe { libc::gmtime_r(&tt, &mut c) };
        (!r.is_null()).then(|| from_c(&c))
    }

    pub fn localtime(t: i64) -> Option<Tm> {
        let tt = t as libc::time_t;
        let mut c = zeroed_tm();
        // SAFETY: both pointers are to valid, live values; localtime_r writes only `c`.
        let r = unsafe { libc::localtime_r(&tt, &mut c) };
        (!r.is_null()).then(|| from_c(&c))
    }

    pub fn mktime(t: &mut Tm) -> i64 {
        let mut c = to_c(t);
        // SAFETY: `c` is a valid struct tm that mktime normalizes in place.
        let r = unsafe { libc::mktime(&mut c) };
        *t = from_c(&c);
        r as i64
    }

    /// `strftime(buff, SIZETIMEFMT, conv, tm)` for one conversion `conv` ("%a", "%Ey"...).
    pub fn strftime(conv: &[u8], t: &Tm) -> Vec<u8> {
        const SIZETIMEFMT: usize = 250;
        let mut fmt = conv.to_vec();
        fmt.push(0);
        let c = to_c(t);
        let mut buf = [0u8; SIZETIMEFMT];
        // SAFETY: `buf` has SIZETIMEFMT bytes, `fmt` is NUL-terminated, `c` is a valid
        // struct tm (its tm_zone, when set, points to the C library's zone names).
        let n = unsafe {
            libc::strftime(
                buf.as_mut_ptr().cast(),
                SIZETIMEFMT,
                fmt.as_ptr().cast(),
                &c,
            )
        };
        buf[..n].to_vec()
    }
}

#[cfg(unix)]
pub(crate) use sys::{gmtime, localtime, mktime, strftime};

#[cfg(not(unix))]
pub(crate) use pure::{gmtime, localtime, mktime, strftime};

/// The C library's time functions in Rust, in UTC: what targets without one use, and what
/// the tests compare with the C library's.
#[cfg_attr(unix, allow(dead_code))]
pub(crate) mod pure {
    use super::Tm;

    fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146097 + doe - 719468
    }

    #[allow(clippy::needless_update)] // `Tm` has one more field on unix
    pub fn gmtime(t: i64) -> Option<Tm> {
        let days = t.div_euclid(86400);
        let secs = t.rem_euclid(86400);
        let z = days.checked_add(719468)?;
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
        Some(Tm {
            year: i32::try_from(year - 1900).ok()?,
            mon: (m - 1) as i32,
            mday: d as i32,
            hour: (secs / 3600) as i32,
            min: (secs % 3600 / 60) as i32,
            sec: (secs % 60) as i32,
            wday: (days + 4).rem_euclid(7) as i32,
            yday: yday as i32,
            isdst: 0,
            gmt: true,
            // The C library's own `struct tm`, where there is one (unix).
            ..Tm::default()
        })
    }

    pub fn localtime(t: i64) -> Option<Tm> {
        gmtime(t).map(|tm| Tm { gmt: false, ..tm })
    }

    /// `mktime` in UTC: normalizes the fields; -1 when the result does not fit.
    pub fn mktime(t: &mut Tm) -> i64 {
        let m0 = t.mon as i64;
        let y = t.year as i64 + 1900 + m0.div_euclid(12);
        let m = m0.rem_euclid(12) + 1;
        let days = days_from_civil(y, m, 1) + t.mday as i64 - 1;
        let secs = days * 86400 + t.hour as i64 * 3600 + t.min as i64 * 60 + t.sec as i64;
        match localtime(secs) {
            Some(n) => {
                *t = n;
                secs
            }
            None => -1,
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

    fn is_leap(y: i64) -> bool {
        (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
    }

    /// ISO 8601 week-based year and week number.
    fn iso_week(tm: &Tm) -> (i64, i64) {
        let year = tm.year as i64 + 1900;
        let wday = (tm.wday as i64 + 6) % 7; // Monday = 0
        let yday = tm.yday as i64;
        let week = (yday - wday + 10) / 7;
        if week < 1 {
            let days_prev = if is_leap(year - 1) { 366 } else { 365 };
            return (year - 1, (yday + days_prev - wday + 10) / 7);
        }
        let days = if is_leap(year) { 366 } else { 365 };
        if week == 53 && yday - wday + 3 >= days {
            return (year + 1, 1);
        }
        (year, week)
    }

    /// One conversion (`%a`, `%Ey`, ...) in the C locale, as glibc's strftime prints it.
    pub fn strftime(conv: &[u8], tm: &Tm) -> Vec<u8> {
        let c = match conv {
            [b'%', b'E' | b'O', c] => *c,
            [b'%', c] => *c,
            _ => return Vec::new(),
        };
        let year = tm.year as i64 + 1900;
        let wd = WDAYS[tm.wday.rem_euclid(7) as usize];
        let mo = MONTHS[tm.mon.rem_euclid(12) as usize];
        let h12 = if tm.hour % 12 == 0 { 12 } else { tm.hour % 12 };
        let ampm = if tm.hour < 12 { "AM" } else { "PM" };
        let s = match c {
            b'a' => wd[..3].to_string(),
            b'A' => wd.to_string(),
            b'b' | b'h' => mo[..3].to_string(),
            b'B' => mo.to_string(),
            b'c' => format!(
                "{} {} {:2} {:02}:{:02}:{:02} {}",
                &wd[..3],
                &mo[..3],
                tm.mday,
                tm.hour,
                tm.min,
                tm.sec,
                year
            ),
            b'C' => format!("{:02}", year.div_euclid(100)),
            b'd' => format!("{:02}", tm.mday),
            b'D' | b'x' => format!(
                "{:02}/{:02}/{:02}",
                tm.mon + 1,
                tm.mday,
                year.rem_euclid(100)
            ),
            b'e' => format!("{:2}", tm.mday),
            b'F' => format!("{}-{:02}-{:02}", year, tm.mon + 1, tm.mday),
            b'g' => format!("{:02}", iso_week(tm).0.rem_euclid(100)),
            b'G' => format!("{}", iso_week(tm).0),
            b'H' => format!("{:02}", tm.hour),
            b'I' => format!("{:02}", h12),
            b'j' => format!("{:03}", tm.yday + 1),
            b'm' => format!("{:02}", tm.mon + 1),
            b'M' => format!("{:02}", tm.min),
            b'n' => "\n".to_string(),
            b'p' => ampm.to_string(),
            b'r' => format!("{:02}:{:02}:{:02} {}", h12, tm.min, tm.sec, ampm),
            b'R' => format!("{:02}:{:02}", tm.hour, tm.min),
            b'S' => format!("{:02}", tm.sec),
            b't' => "\t".to_string(),
            b'T' | b'X' => format!("{:02}:{:02}:{:02}", tm.hour, tm.min, tm.sec),
            b'u' => format!("{}", if tm.wday == 0 { 7 } else { tm.wday }),
            b'U' => format!("{:02}", (tm.yday + 7 - tm.wday) / 7),
            b'V' => format!("{:02}", iso_week(tm).1),
            b'w' => format!("{}", tm.wday),
            b'W' => format!("{:02}", (tm.yday + 7 - (tm.wday + 6) % 7) / 7),
            b'y' => format!("{:02}", year.rem_euclid(100)),
            b'Y' => format!("{}", year),
            b'z' => "+0000".to_string(),
            b'Z' => (if tm.gmt { "GMT" } else { "UTC" }).to_string(),
            b'%' => "%".to_string(),
            _ => String::new(),
        };
        s.into_bytes()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::{pure, sys};

    /// The pure fallback prints what the C library prints in UTC.
    #[test]
    fn pure_strftime_matches_the_c_library_in_utc() {
        let convs: Vec<String> = "aAbBcCdDeFgGhHIjmMnprRStTuUVwWxXyYzZ%"
            .chars()
            .map(|c| format!("%{c}"))
            .chain(
                [
                    "%Ec", "%EC", "%Ex", "%EX", "%Ey", "%EY", "%Od", "%OV", "%Oy",
                ]
                .map(String::from),
            )
            .collect();
        let mut t: i64 = -2_208_988_800; // 1900-01-01
        while t < 4_102_444_800 {
            let (a, b) = (pure::gmtime(t).unwrap(), sys::gmtime(t).unwrap());
            assert_eq!(
                (a.year, a.mon, a.mday, a.hour, a.min, a.sec, a.wday, a.yday),
                (b.year, b.mon, b.mday, b.hour, b.min, b.sec, b.wday, b.yday),
                "gmtime({t})"
            );
            for c in &convs {
                assert_eq!(
                    String::from_utf8_lossy(&pure::strftime(c.as_bytes(), &a)),
                    String::from_utf8_lossy(&sys::strftime(c.as_bytes(), &b)),
                    "{c} at {t}"
                );
            }
            t += 86_400 * 3 + 3_659;
        }
    }
}
