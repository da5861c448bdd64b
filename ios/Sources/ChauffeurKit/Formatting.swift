import Foundation

/// Amounts and rates as the SDK gives them (minor units and an ISO 4217 code; a VAT rate as a
/// fraction), formatted in the device's locale. The views show these strings and compute nothing.
public enum Formatting {
  /// `minor` units of `currency` in `locale`: `€93.00`, `93,00 €`, `¥9,300` (a currency's
  /// own number of decimals). Empty when the currency is not known yet.
  public static func money(_ minor: Int64, currency: String, locale: Locale = .current) -> String {
    guard !currency.isEmpty else { return "" }
    let formatter = NumberFormatter()
    formatter.numberStyle = .currency
    formatter.locale = locale
    formatter.currencyCode = currency
    let digits = formatter.maximumFractionDigits
    let amount = NSDecimalNumber(
      mantissa: minor.magnitude, exponent: Int16(-digits), isNegative: minor < 0)
    return formatter.string(from: amount) ?? "\(currency) \(amount)"
  }

  /// A rate given as a fraction (the SDK's `Receipt.vatRate`, 0.19) as a percentage in
  /// `locale`: `19%`, `19 %`.
  public static func percent(_ fraction: Double, locale: Locale = .current) -> String {
    let formatter = NumberFormatter()
    formatter.numberStyle = .percent
    formatter.locale = locale
    formatter.maximumFractionDigits = 2
    return formatter.string(from: NSNumber(value: fraction)) ?? "\(fraction * 100) %"
  }
}
