//! Telephone numbers in E.164 form: `+`, a country code that does not start with 0, and at
//! most 15 digits in all. Operators' numbers are stored this way and never shown to users.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

/// Why a number is not E.164.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "must be in E.164 form: + then the country code and number, digits only, e.g. +12025550123"
)]
pub struct PhoneError;

impl PhoneNumber {
    pub fn parse(value: &str) -> Result<Self, PhoneError> {
        let digits = value.strip_prefix('+').ok_or(PhoneError)?;
        let valid = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(PhoneError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_numbers_are_accepted_and_local_forms_refused() {
        for good in [
            "+12025550123",
            "+442071838750",
            "+4930123456",
            "+861012345678901",
        ] {
            assert!(PhoneNumber::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "555-1234",
            "12025550123",
            "+1 202 555 0123",
            "+1-202-555-0123",
            "+0123456789",
            "+1234567",
            "+1234567890123456",
            "+",
            "",
            "+12025550123x",
        ] {
            assert_eq!(PhoneNumber::parse(bad), Err(PhoneError), "{bad}");
        }
    }
}
