//! Timestamps in response bodies, byte for byte as chrono's own `Serialize` writes them
//! (RFC 3339 in UTC with `Z`, and a fraction of 0, 3, 6 or 9 digits as needed), but
//! into a stack buffer: chrono writes digit by digit through `core::fmt`, about 1,200
//! instructions per timestamp and a sixteenth of a partner search's instructions.

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use serde::Serializer;

/// For `#[serde(serialize_with = "…")]` on a `DateTime<Utc>`.
pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 30];
    match write(at, Fraction::AsNeeded, &mut buf) {
        Some(len) => serializer.serialize_str(ascii(&buf[..len])),
        // Years outside 0000–9999 take a sign; chrono's own formatting handles them.
        None => serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
    }
}

/// For `#[serde(serialize_with = "…")]` on an `Option<DateTime<Utc>>`.
pub fn serialize_option<S: Serializer>(
    at: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serialize(at, serializer),
        None => serializer.serialize_none(),
    }
}

fn ascii(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("only ASCII digits and separators are written")
}

/// The digits of a second's fraction.
pub enum Fraction {
    /// 0, 3, 6 or 9, as chrono writes them.
    AsNeeded,
    /// Always 6, as `tracing_subscriber`'s timer writes them.
    Micros,
}

/// `at` as RFC 3339 text; `None` for a year that needs a sign or a fifth digit.
pub fn rfc3339<'b>(
    at: &DateTime<Utc>,
    fraction: Fraction,
    buf: &'b mut [u8; 30],
) -> Option<&'b str> {
    let len = write(at, fraction, buf)?;
    Some(ascii(&buf[..len]))
}

/// Writes `at` into `buf`; `None` for a year that needs a sign or a fifth digit.
fn write(at: &DateTime<Utc>, fraction: Fraction, buf: &mut [u8; 30]) -> Option<usize> {
    let year = u32::try_from(at.year()).ok().filter(|y| *y <= 9999)?;
    let mut second = at.second();
    let mut nano = at.nanosecond();
    // chrono keeps a leap second as nanoseconds past 1e9 and writes it as second 60.
    if nano >= 1_000_000_000 {
        second += 1;
        nano -= 1_000_000_000;
    }
    let mut out = Out { buf, len: 0 };
    out.digits(year, 4);
    out.byte(b'-');
    out.digits(at.month(), 2);
    out.byte(b'-');
    out.digits(at.day(), 2);
    out.byte(b'T');
    out.digits(at.hour(), 2);
    out.byte(b':');
    out.digits(at.minute(), 2);
    out.byte(b':');
    out.digits(second, 2);
    if let Fraction::Micros = fraction {
        out.byte(b'.');
        out.digits(nano / 1_000, 6);
    } else if nano != 0 {
        out.byte(b'.');
        if nano % 1_000_000 == 0 {
            out.digits(nano / 1_000_000, 3);
        } else if nano % 1_000 == 0 {
            out.digits(nano / 1_000, 6);
        } else {
            out.digits(nano, 9);
        }
    }
    out.byte(b'Z');
    Some(out.len)
}

struct Out<'a> {
    buf: &'a mut [u8; 30],
    len: usize,
}

impl Out<'_> {
    fn byte(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    /// `value` zero-padded to `count` digits.
    fn digits(&mut self, value: u32, count: u32) {
        for i in (0..count).rev() {
            self.byte(b'0' + (value / 10u32.pow(i) % 10) as u8);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};
    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    struct Ours(#[serde(serialize_with = "serialize")] DateTime<Utc>);

    #[derive(Serialize)]
    struct OursOption(#[serde(serialize_with = "serialize_option")] Option<DateTime<Utc>>);

    fn at(year: i32, month: u32, day: u32, h: u32, m: u32, s: u32, nano: u32) -> DateTime<Utc> {
        let naive = NaiveDate::from_ymd_opt(year, month, day)
            .and_then(|d| d.and_hms_nano_opt(h, m, s, nano))
            .expect("a valid instant");
        Utc.from_utc_datetime(&naive)
    }

    #[test]
    fn writes_what_chrono_writes() {
        let fractions = [
            0,
            1,
            999,
            1_000,
            120_000,
            123_456,
            1_000_000,
            123_000_000,
            123_456_789,
            999_999_999,
            1_000_000_000,
            1_500_000_000,
        ];
        let dates = [
            (0, 1, 1, 0, 0, 0),
            (1, 2, 3, 4, 5, 6),
            (999, 12, 31, 23, 59, 59),
            (1970, 1, 1, 0, 0, 0),
            (2024, 2, 29, 12, 30, 45),
            (2026, 11, 27, 9, 8, 7),
            (9999, 12, 31, 23, 59, 59),
        ];
        for (y, mo, d, h, mi, s) in dates {
            for nano in fractions {
                // chrono admits a leap second only at second 59.
                let s = if nano >= 1_000_000_000 { 59 } else { s };
                let t = at(y, mo, d, h, mi, s, nano);
                let chrono = serde_json::to_string(&t).unwrap();
                assert_eq!(serde_json::to_string(&Ours(t)).unwrap(), chrono, "{t:?}");
                assert_eq!(serde_json::to_string(&OursOption(Some(t))).unwrap(), chrono);
            }
        }
        assert_eq!(serde_json::to_string(&OursOption(None)).unwrap(), "null");
    }

    #[test]
    fn years_with_a_sign_fall_back_to_chrono() {
        for t in [at(-1, 1, 1, 0, 0, 0, 0), at(10000, 1, 1, 0, 0, 0, 5_000)] {
            assert_eq!(
                serde_json::to_string(&Ours(t)).unwrap(),
                serde_json::to_string(&t).unwrap()
            );
        }
    }
}
