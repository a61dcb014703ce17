//! Calendar dates for the PID: the proleptic Gregorian calendar in UTC, written `YYYY-MM-DD`.
//!
//! Owns: day arithmetic (after Howard Hinnant's `days_from_civil`), ages, and the sandbox's model
//! of how long a citizen identity card (CCCD) is valid: it must be renewed at the ages of 14, 25,
//! 40 and 60 (Law on Identification 2023, art. 21), and a card held after 60 does not expire.

use std::fmt;

const SECS_PER_DAY: i64 = 86_400;
/// The ages at which a citizen identity card must be renewed.
const CARD_RENEWAL_AGES: [i32; 4] = [14, 25, 40, 60];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Date {
    year: i32,
    month: u32,
    day: u32,
}

impl Date {
    /// `YYYY-MM-DD`, a real day of the years 1900 to 2200.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let number = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = &text[range];
            part.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| part.parse().ok())
                .flatten()
        };
        let date = Self {
            year: i32::try_from(number(0..4)?).ok()?,
            month: number(5..7)?,
            day: number(8..10)?,
        };
        let valid = (1900..=2200).contains(&date.year)
            && (1..=12).contains(&date.month)
            && (1..=days_in_month(date.year, date.month)).contains(&date.day);
        valid.then_some(date)
    }

    /// The UTC day that contains `unix_secs`.
    pub(crate) fn from_unix(unix_secs: i64) -> Self {
        civil_from_days(unix_secs.div_euclid(SECS_PER_DAY))
    }

    /// Midnight UTC at the start of this day, in Unix seconds.
    pub(crate) fn to_unix(self) -> i64 {
        days_from_civil(self) * SECS_PER_DAY
    }

    /// The same day `years` later; 29 February becomes 28 February in a common year.
    pub(crate) fn add_years(self, years: i32) -> Self {
        let year = self.year + years;
        Self {
            year,
            month: self.month,
            day: self.day.min(days_in_month(year, self.month)),
        }
    }

    /// Whether someone born on `self` has turned `years` on `today`.
    pub(crate) fn has_turned(self, years: i32, today: Date) -> bool {
        self.add_years(years) <= today
    }

    /// When the identity card of someone born on `self` must be renewed next, seen on `today`;
    /// `None` once the card no longer expires.
    pub(crate) fn card_expiry(self, today: Date) -> Option<Date> {
        CARD_RENEWAL_AGES
            .iter()
            .map(|age| self.add_years(*age))
            .find(|renewal| *renewal > today)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01.
fn days_from_civil(date: Date) -> i64 {
    let year = i64::from(date.year) - i64::from(date.month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(date.month);
    let day_of_year =
        (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(date.day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    Date {
        year: year as i32,
        month,
        day,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    #[test]
    fn days_and_unix_seconds_agree_with_known_dates() {
        assert_eq!(date("1970-01-01").to_unix(), 0);
        assert_eq!(date("2000-03-01").to_unix(), 951_868_800);
        assert_eq!(date("2026-11-22").to_unix(), 1_795_305_600);
        assert_eq!(Date::from_unix(1_795_305_600 + 86_399), date("2026-11-22"));
        assert_eq!(Date::from_unix(-1), date("1969-12-31"));
        // Every day of four centuries goes there and back.
        let start = date("1900-01-01").to_unix() / SECS_PER_DAY;
        for day in start..start + 146_097 {
            let civil = civil_from_days(day);
            assert_eq!(days_from_civil(civil), day);
            let parsed = Date::parse(&civil.to_string());
            assert_eq!(parsed, (civil.year <= 2200).then_some(civil));
        }
    }

    #[test]
    fn parsing_refuses_what_is_not_a_day() {
        for bad in [
            "1990-02-30",
            "2023-02-29",
            "1990-13-01",
            "1990-1-01",
            "17/05/1990",
            "1899-12-31",
            "+990-01-01",
            "",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
        assert_eq!(date("2024-02-29").to_string(), "2024-02-29");
    }

    #[test]
    fn ages_and_card_expiry() {
        let birth = date("2008-05-17");
        assert!(!birth.has_turned(18, date("2026-05-16")));
        assert!(birth.has_turned(18, date("2026-05-17")));
        let leapling = date("2008-02-29");
        assert!(leapling.has_turned(18, date("2026-02-28")));
        assert!(!leapling.has_turned(18, date("2026-02-27")));

        let born_1990 = date("1990-05-17");
        assert_eq!(
            born_1990.card_expiry(date("2026-01-01")),
            Some(date("2030-05-17"))
        );
        assert_eq!(
            born_1990.card_expiry(date("2030-05-17")),
            Some(date("2050-05-17"))
        );
        assert_eq!(date("1950-01-01").card_expiry(date("2026-01-01")), None);
        assert_eq!(
            date("2020-01-01").card_expiry(date("2026-01-01")),
            Some(date("2034-01-01"))
        );
    }
}
