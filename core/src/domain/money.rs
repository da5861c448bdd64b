//! Money as integer minor units plus an ISO 4217 currency. No floats anywhere near a price.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::CoreError;

/// An ISO 4217 currency with its number of minor digits (EUR 2, JPY 0, KWD 3).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    /// Index into `CURRENCIES`: one byte keeps `Money` and fare lines small and cheap to copy.
    index: u8,
}

/// The currencies the catalog may use. Minor digits per ISO 4217 (HUF and CZK keep their two
/// official minor digits even though coins are gone; rounding steps take care of that).
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AUD", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("MAD", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PLN", 2),
    ("QAR", 2),
    ("RON", 2),
    ("SAR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TRY", 2),
    ("TWD", 2),
    ("USD", 2),
    ("VND", 0),
    ("ZAR", 2),
];

impl Currency {
    pub fn from_code(code: &str) -> Result<Currency, CoreError> {
        CURRENCIES
            .iter()
            .position(|(known, _)| *known == code)
            .and_then(|index| u8::try_from(index).ok())
            .map(|index| Currency { index })
            .ok_or_else(|| CoreError::UnknownCurrency(code.to_owned()))
    }

    fn entry(&self) -> (&'static str, u8) {
        // The index comes from `from_code`, so it is always in range.
        CURRENCIES
            .get(usize::from(self.index))
            .copied()
            .unwrap_or(("XXX", 0))
    }

    pub fn code(&self) -> &'static str {
        self.entry().0
    }

    pub fn minor_digits(&self) -> u8 {
        self.entry().1
    }

    /// Minor units in one major unit: 100 for EUR, 1 for JPY.
    pub fn minor_per_major(&self) -> i64 {
        10_i64.pow(u32::from(self.minor_digits()))
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Currency::from_code(&code).map_err(serde::de::Error::custom)
    }
}

/// An amount in minor units of a currency: `Money::new(4500, eur)` is EUR 45.00.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount_minor: i64, currency: Currency) -> Money {
        Money {
            amount_minor,
            currency,
        }
    }

    pub fn zero(currency: Currency) -> Money {
        Money::new(0, currency)
    }

    pub fn checked_add(self, other: Money) -> Result<Money, CoreError> {
        self.same_currency(other)?;
        let amount = self
            .amount_minor
            .checked_add(other.amount_minor)
            .ok_or(CoreError::AmountOverflow)?;
        Ok(Money::new(amount, self.currency))
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, CoreError> {
        self.same_currency(other)?;
        let amount = self
            .amount_minor
            .checked_sub(other.amount_minor)
            .ok_or(CoreError::AmountOverflow)?;
        Ok(Money::new(amount, self.currency))
    }

    /// Rounds up to the next multiple of `step` minor units (a step of 0 or 1 changes nothing).
    pub fn round_up_to_step(self, step: i64) -> Result<Money, CoreError> {
        Ok(Money::new(
            round_up(self.amount_minor, step)?,
            self.currency,
        ))
    }

    /// `self × basis_points / 10 000`, rounded up to the minor unit (fees, surcharges).
    pub fn percent_bp_ceil(self, basis_points: u32) -> Result<Money, CoreError> {
        let amount = mul_div_ceil(self.amount_minor, i64::from(basis_points), 10_000)?;
        Ok(Money::new(amount, self.currency))
    }

    /// Splits a VAT-inclusive amount into (net, VAT) with net + VAT == self exactly.
    /// Net is rounded half up; VAT is the remainder, so nothing is lost to rounding.
    pub fn split_vat(self, vat_rate_bp: u32) -> Result<(Money, Money), CoreError> {
        let denominator = 10_000 + i64::from(vat_rate_bp);
        // net = round_half_up(gross × 10 000 / denominator); i64 unless that could overflow.
        let net = match self.amount_minor.checked_mul(20_000) {
            Some(scaled) if scaled >= 0 => (scaled + denominator) / (2 * denominator),
            _ => {
                let d = i128::from(denominator);
                to_i64((i128::from(self.amount_minor) * 20_000 + d).div_euclid(2 * d))?
            }
        };
        let vat = self.amount_minor - net;
        Ok((
            Money::new(net, self.currency),
            Money::new(vat, self.currency),
        ))
    }

    fn same_currency(self, other: Money) -> Result<(), CoreError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(CoreError::CurrencyMismatch {
                left: self.currency.code().to_owned(),
                right: other.currency.code().to_owned(),
            })
        }
    }
}

/// Sums amounts of one currency; the currency of an empty sum is the given one.
pub fn sum(
    currency: Currency,
    amounts: impl IntoIterator<Item = Money>,
) -> Result<Money, CoreError> {
    amounts
        .into_iter()
        .try_fold(Money::zero(currency), Money::checked_add)
}

/// `ceil(a × b / divisor)` for a positive divisor: i64 when the product fits (always, for real
/// fares), i128 otherwise. 128-bit division is several times slower, and this is the hot path.
pub(crate) fn mul_div_ceil(a: i64, b: i64, divisor: i64) -> Result<i64, CoreError> {
    match a.checked_mul(b) {
        Some(product) => Ok(-((-product).div_euclid(divisor))),
        None => to_i64(ceil_div(i128::from(a) * i128::from(b), i128::from(divisor))),
    }
}

/// Ceiling division for a positive divisor, correct for negative numerators too.
pub(crate) fn ceil_div(numerator: i128, divisor: i128) -> i128 {
    -((-numerator).div_euclid(divisor))
}

pub(crate) fn to_i64(value: i128) -> Result<i64, CoreError> {
    i64::try_from(value).map_err(|_| CoreError::AmountOverflow)
}

pub(crate) fn round_up(amount: i64, step: i64) -> Result<i64, CoreError> {
    if step <= 1 {
        return Ok(amount);
    }
    let steps = -((-amount).div_euclid(step));
    steps.checked_mul(step).ok_or(CoreError::AmountOverflow)
}

impl fmt::Display for Money {
    /// `EUR 45.00`, `JPY 7100`, `EUR -3.50`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = u32::from(self.currency.minor_digits());
        if digits == 0 {
            return write!(f, "{} {}", self.currency, self.amount_minor);
        }
        let scale = 10_u64.pow(digits);
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let magnitude = self.amount_minor.unsigned_abs();
        write!(
            f,
            "{} {sign}{}.{:0width$}",
            self.currency,
            magnitude / scale,
            magnitude % scale,
            width = digits as usize
        )
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::from_code("EUR").unwrap())
    }

    #[test]
    fn currencies_know_their_minor_digits() {
        assert_eq!(Currency::from_code("EUR").unwrap().minor_digits(), 2);
        assert_eq!(Currency::from_code("JPY").unwrap().minor_digits(), 0);
        assert_eq!(Currency::from_code("KWD").unwrap().minor_digits(), 3);
        assert_eq!(
            Currency::from_code("XXX").unwrap_err().code(),
            "unknown_currency"
        );
    }

    #[test]
    fn display_uses_the_currencys_minor_digits() {
        assert_eq!(eur(4500).to_string(), "EUR 45.00");
        assert_eq!(eur(-350).to_string(), "EUR -3.50");
        let jpy = Currency::from_code("JPY").unwrap();
        assert_eq!(Money::new(7100, jpy).to_string(), "JPY 7100");
        let kwd = Currency::from_code("KWD").unwrap();
        assert_eq!(Money::new(12_345, kwd).to_string(), "KWD 12.345");
    }

    #[test]
    fn rounding_goes_up_to_the_step_and_never_down() {
        assert_eq!(eur(10_201).round_up_to_step(100).unwrap(), eur(10_300));
        assert_eq!(eur(10_300).round_up_to_step(100).unwrap(), eur(10_300));
        assert_eq!(eur(10_301).round_up_to_step(50).unwrap(), eur(10_350));
        assert_eq!(eur(7).round_up_to_step(1).unwrap(), eur(7));
    }

    #[test]
    fn vat_split_adds_up_exactly() {
        // EUR 119.00 at 19 %: net 100.00, VAT 19.00.
        let (net, vat) = eur(11_900).split_vat(1900).unwrap();
        assert_eq!((net, vat), (eur(10_000), eur(1_900)));
        // EUR 1.00 at 7 %: 100 / 1.07 = 93.46 -> net 0.93, VAT 0.07.
        let (net, vat) = eur(100).split_vat(700).unwrap();
        assert_eq!((net, vat), (eur(93), eur(7)));
        // No VAT: everything is net.
        assert_eq!(eur(5_000).split_vat(0).unwrap(), (eur(5_000), eur(0)));
    }

    #[test]
    fn mixing_currencies_is_an_error_not_a_sum() {
        let chf = Money::new(100, Currency::from_code("CHF").unwrap());
        assert_eq!(
            eur(100).checked_add(chf).unwrap_err().code(),
            "currency_mismatch"
        );
    }

    #[test]
    fn overflow_is_reported() {
        assert_eq!(
            eur(i64::MAX).checked_add(eur(1)).unwrap_err(),
            CoreError::AmountOverflow
        );
    }

    #[test]
    fn percentages_round_up_to_the_minor_unit() {
        // 20 % of EUR 45.01 = 9.002 -> 9.01
        assert_eq!(eur(4501).percent_bp_ceil(2000).unwrap(), eur(901));
        assert_eq!(eur(4500).percent_bp_ceil(5000).unwrap(), eur(2250));
    }
}
