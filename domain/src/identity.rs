//! Identity numbers: ИИН (жеке сәйкестендіру нөмірі, individual identification number) and БСН/БИН
//! (бизнес-сәйкестендіру нөмірі, business identification number).
//!
//! Both are 12 digits whose last digit is a check digit computed the same way: weights 1..11 over the
//! first 11 digits, sum modulo 11; if that gives 10, weights 3..11,1,2 are used instead; if that again
//! gives 10 the number is never issued. An IIN begins with the birth date (YYMMDD) and a digit for the
//! century and sex; a BIN begins with the registration year and month, the entity type and attribute.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("must be exactly 12 digits")]
    Format,
    #[error("check digit does not match")]
    Checksum,
    #[error("the first six digits are not a valid date of birth")]
    BirthDate,
    #[error("the seventh digit (century and sex) must be 1-6")]
    CenturyDigit,
    #[error("the fifth digit (entity type) must be 4, 5 or 6")]
    EntityType,
    #[error("the sixth digit (entity attribute) must be 0-4")]
    EntityAttribute,
    #[error("the first four digits are not a valid registration year and month")]
    RegistrationMonth,
}

impl IdNumberError {
    /// A stable code for machine-readable errors.
    pub fn code(&self) -> &'static str {
        match self {
            IdNumberError::Format => "format",
            IdNumberError::Checksum => "checksum",
            IdNumberError::BirthDate => "birth_date",
            IdNumberError::CenturyDigit => "century_digit",
            IdNumberError::EntityType => "entity_type",
            IdNumberError::EntityAttribute => "entity_attribute",
            IdNumberError::RegistrationMonth => "registration_month",
        }
    }
}

fn digits(s: &str) -> Result<[u8; 12], IdNumberError> {
    let bytes = s.as_bytes();
    if bytes.len() != 12 || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(IdNumberError::Format);
    }
    let mut d = [0u8; 12];
    for (i, b) in bytes.iter().enumerate() {
        d[i] = b - b'0';
    }
    Ok(d)
}

/// The check digit of the first 11 digits, or `None` when the number cannot be issued.
pub fn check_digit(first11: &[u8]) -> Option<u8> {
    let pass = |weights: &dyn Fn(usize) -> u32| -> u32 {
        first11.iter().enumerate().map(|(i, d)| *d as u32 * weights(i)).sum::<u32>() % 11
    };
    let first = pass(&|i| i as u32 + 1);
    if first != 10 {
        return Some(first as u8);
    }
    let second = pass(&|i| ((i as u32 + 2) % 11) + 1);
    (second != 10).then_some(second as u8)
}

fn verify_check_digit(d: &[u8; 12]) -> Result<(), IdNumberError> {
    match check_digit(&d[..11]) {
        Some(c) if c == d[11] => Ok(()),
        _ => Err(IdNumberError::Checksum),
    }
}

/// Sex as the seventh digit of an IIN encodes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Male,
    Female,
}

/// An individual identification number (ИИН), checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Iin(String);

impl Iin {
    pub fn parse(s: &str) -> Result<Iin, IdNumberError> {
        let d = digits(s)?;
        let century = match d[6] {
            1 | 2 => 1800,
            3 | 4 => 1900,
            5 | 6 => 2000,
            _ => return Err(IdNumberError::CenturyDigit),
        };
        let year = century + (d[0] * 10 + d[1]) as i32;
        let month = (d[2] * 10 + d[3]) as u32;
        let day = (d[4] * 10 + d[5]) as u32;
        NaiveDate::from_ymd_opt(year, month, day).ok_or(IdNumberError::BirthDate)?;
        verify_check_digit(&d)?;
        Ok(Iin(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> NaiveDate {
        let d = digits(&self.0).expect("checked at parse");
        let century = match d[6] {
            1 | 2 => 1800,
            3 | 4 => 1900,
            _ => 2000,
        };
        NaiveDate::from_ymd_opt(
            century + (d[0] * 10 + d[1]) as i32,
            (d[2] * 10 + d[3]) as u32,
            (d[4] * 10 + d[5]) as u32,
        )
        .expect("checked at parse")
    }

    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[6] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// Full years of age on `on` (a child's consent is required from 10 years, Code on Marriage and Family).
    pub fn age_on(&self, on: NaiveDate) -> u32 {
        use chrono::Datelike;
        let b = self.birth_date();
        let mut age = on.year() - b.year();
        if (on.month(), on.day()) < (b.month(), b.day()) {
            age -= 1;
        }
        age.max(0) as u32
    }
}

impl TryFrom<String> for Iin {
    type Error = IdNumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Iin::parse(&s)
    }
}

impl From<Iin> for String {
    fn from(i: Iin) -> String {
        i.0
    }
}

impl fmt::Display for Iin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A business identification number (БСН/БИН) of a legal entity, checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Bin(String);

impl Bin {
    pub fn parse(s: &str) -> Result<Bin, IdNumberError> {
        let d = digits(s)?;
        let month = d[2] * 10 + d[3];
        if !(1..=12).contains(&month) {
            return Err(IdNumberError::RegistrationMonth);
        }
        if !matches!(d[4], 4..=6) {
            return Err(IdNumberError::EntityType);
        }
        if d[5] > 4 {
            return Err(IdNumberError::EntityAttribute);
        }
        verify_check_digit(&d)?;
        Ok(Bin(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Bin {
    type Error = IdNumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Bin::parse(&s)
    }
}

impl From<Bin> for String {
    fn from(b: Bin) -> String {
        b.0
    }
}

/// Builds a valid IIN from a birth date, sex and 4-digit serial: used to make test and demo data that
/// passes the same checks as real numbers. Returns `None` for the rare serials that cannot be issued.
pub fn make_iin(birth: NaiveDate, sex: Sex, serial: u16) -> Option<Iin> {
    use chrono::Datelike;
    let century_digit = match (birth.year() / 100, sex) {
        (18, Sex::Male) => 1,
        (18, Sex::Female) => 2,
        (19, Sex::Male) => 3,
        (19, Sex::Female) => 4,
        (20, Sex::Male) => 5,
        (20, Sex::Female) => 6,
        _ => return None,
    };
    let body = format!(
        "{:02}{:02}{:02}{}{:04}",
        birth.year() % 100,
        birth.month(),
        birth.day(),
        century_digit,
        serial % 10000
    );
    let d: Vec<u8> = body.bytes().map(|b| b - b'0').collect();
    let c = check_digit(&d)?;
    Iin::parse(&format!("{body}{c}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_pass_weights_are_one_to_eleven() {
        // 9*1 + 1*4 + 1*6 + 3*7 + 1*10 + 2*11 = 72; 72 mod 11 = 6
        let d = [9, 0, 0, 1, 0, 1, 3, 0, 0, 1, 2];
        assert_eq!(check_digit(&d), Some(6));
        assert_eq!(Iin::parse("900101300126").unwrap().as_str(), "900101300126");
        assert_eq!(Iin::parse("900101300123"), Err(IdNumberError::Checksum));
    }

    #[test]
    fn second_pass_is_used_when_first_gives_ten() {
        // Find a body whose first pass yields 10 and check the second-pass weights 3..11,1,2.
        let d = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]; // 1*11 = 11 -> 0: not 10
        assert_eq!(check_digit(&d), Some(0));
        let d = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]; // first: 1 -> 1
        assert_eq!(check_digit(&d), Some(1));
        let d = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]; // first: 10 -> second: 1*1 (weight of 10th) = 1
        assert_eq!(check_digit(&d), Some(1));
        let d = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(check_digit(&d), Some(0));
    }

    #[test]
    fn rejects_bad_shapes() {
        assert_eq!(Iin::parse("12345"), Err(IdNumberError::Format));
        assert_eq!(Iin::parse("90010130012a"), Err(IdNumberError::Format));
        assert_eq!(Iin::parse("901301300126"), Err(IdNumberError::BirthDate));
        assert_eq!(Iin::parse("900101900126"), Err(IdNumberError::CenturyDigit));
    }

    #[test]
    fn birth_date_sex_and_age() {
        let iin = make_iin(NaiveDate::from_ymd_opt(2015, 3, 21).unwrap(), Sex::Female, 17).unwrap();
        assert_eq!(iin.birth_date(), NaiveDate::from_ymd_opt(2015, 3, 21).unwrap());
        assert_eq!(iin.sex(), Sex::Female);
        assert_eq!(iin.age_on(NaiveDate::from_ymd_opt(2025, 3, 20).unwrap()), 9);
        assert_eq!(iin.age_on(NaiveDate::from_ymd_opt(2025, 3, 21).unwrap()), 10);
    }

    #[test]
    fn bin_checks_type_and_digit() {
        let body = [1, 2, 0, 3, 4, 0, 0, 0, 1, 2, 3];
        let c = check_digit(&body).unwrap();
        let bin: String = body.iter().map(|d| (b'0' + d) as char).collect::<String>() + &c.to_string();
        assert!(Bin::parse(&bin).is_ok());
        assert_eq!(Bin::parse("121312345678").unwrap_err(), IdNumberError::RegistrationMonth);
        assert_eq!(Bin::parse("120372345678").unwrap_err(), IdNumberError::EntityType);
    }
}
