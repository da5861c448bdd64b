//! An invoice as a PDF, in German or English: A4, DejaVu Sans embedded (subset; its licence in
//! `assets/fonts/LICENSE-DejaVu.txt`), every figure as text so that it can be read back (and is,
//! by the tests, with `pdftotext`).

use std::sync::OnceLock;

use chauffeur_core::fare::{FareLineKind, ProductKind};
use chauffeur_core::invoice::{InvoiceKind, InvoiceView};
use chauffeur_core::wire::{LineView, MoneyView};
use chauffeur_core::{Currency, VehicleClass};
use krilla::geom::Point;
use krilla::page::PageSettings;
use krilla::text::{Font, TextDirection};
use krilla::Document;

static REGULAR: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");

/// The language of a rendered invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    German,
    English,
}

impl Language {
    /// From `?lang=` or the first language of `Accept-Language`; English otherwise.
    pub fn choose(lang: Option<&str>, accept_language: Option<&str>) -> Language {
        let wanted = lang
            .or_else(|| accept_language.and_then(|header| header.split(',').next().map(str::trim)));
        match wanted {
            Some(tag) if tag.to_ascii_lowercase().starts_with("de") => Language::German,
            _ => Language::English,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the embedded font cannot be read")]
    Font,
    #[error("the PDF could not be written: {0}")]
    Write(String),
}

fn fonts() -> Result<&'static (Font, Font), PdfError> {
    static FONTS: OnceLock<Option<(Font, Font)>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let regular = Font::new(REGULAR.into(), 0)?;
            let bold = Font::new(BOLD.into(), 0)?;
            Some((regular, bold))
        })
        .as_ref()
        .ok_or(PdfError::Font)
}

/// An amount as the language writes it: `EUR 1,234.50` or `1.234,50 EUR`.
pub fn money(amount: &MoneyView, language: Language) -> String {
    let digits = Currency::from_code(&amount.currency)
        .map(|c| u32::from(c.minor_digits()))
        .unwrap_or(2);
    let scale = 10_u64.pow(digits);
    let magnitude = amount.amount_minor.unsigned_abs();
    let (whole, fraction) = (magnitude / scale, magnitude % scale);
    let (group, decimal) = match language {
        Language::German => ('.', ','),
        Language::English => (',', '.'),
    };
    let whole = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(c);
    }
    let sign = if amount.amount_minor < 0 { "-" } else { "" };
    let number = if digits == 0 {
        format!("{sign}{grouped}")
    } else {
        format!(
            "{sign}{grouped}{decimal}{fraction:0width$}",
            width = digits as usize
        )
    };
    match language {
        Language::German => format!("{number} {}", amount.currency),
        Language::English => format!("{} {number}", amount.currency),
    }
}

fn percent(basis_points: u32, language: Language) -> String {
    let text = if basis_points % 100 == 0 {
        format!("{}", basis_points / 100)
    } else {
        format!("{}.{:02}", basis_points / 100, basis_points % 100)
            .trim_end_matches('0')
            .to_owned()
    };
    match language {
        Language::German => format!("{} %", text.replace('.', ",")),
        Language::English => format!("{text} %"),
    }
}

/// What a line charged for, in words.
pub fn line_description(line: &LineView, language: Language) -> String {
    let q = line.quantity;
    let german = language == Language::German;
    match line.kind {
        FareLineKind::Base => if german { "Grundpreis" } else { "Base fare" }.into(),
        FareLineKind::Distance => {
            let km = format!("{:.1}", q as f64 / 1000.0);
            if german {
                format!("Strecke ({} km)", km.replace('.', ","))
            } else {
                format!("Distance ({km} km)")
            }
        }
        FareLineKind::Time => {
            let minutes = q.div_ceil(60);
            if german {
                format!("Fahrzeit ({minutes} Min.)")
            } else {
                format!("Driving time ({minutes} min)")
            }
        }
        FareLineKind::Hours => {
            if german {
                format!("Gebuchte Stunden ({q} Std.)")
            } else {
                format!("Hours booked ({q} h)")
            }
        }
        FareLineKind::MinimumFare => if german {
            "Aufstockung auf den Mindestfahrpreis"
        } else {
            "Top-up to the minimum fare"
        }
        .into(),
        FareLineKind::AirportPickup => if german {
            "Abholung am Flughafen"
        } else {
            "Airport pickup"
        }
        .into(),
        FareLineKind::MeetAndGreet => "Meet & Greet".into(),
        FareLineKind::Night => {
            let rate = percent(u32::try_from(q).unwrap_or(0), language);
            if german {
                format!("Nachtzuschlag ({rate})")
            } else {
                format!("Night surcharge ({rate})")
            }
        }
        FareLineKind::ChildSeats => {
            if german {
                format!("Kindersitze ({q})")
            } else {
                format!("Child seats ({q})")
            }
        }
        FareLineKind::ExtraStops => {
            if german {
                format!("Zusätzliche Halte ({q})")
            } else {
                format!("Extra stops ({q})")
            }
        }
        FareLineKind::Waiting => {
            if german {
                format!("Wartezeit ({q} Min.)")
            } else {
                format!("Waiting time ({q} min)")
            }
        }
        FareLineKind::ExtraKm => {
            if german {
                format!("Zusätzliche Kilometer ({q} km)")
            } else {
                format!("Extra kilometres ({q} km)")
            }
        }
        FareLineKind::ExtraTime => {
            if german {
                format!("Zusätzliche Zeit ({q} Min.)")
            } else {
                format!("Extra time ({q} min)")
            }
        }
        FareLineKind::Tolls => if german { "Maut" } else { "Tolls" }.into(),
        FareLineKind::Parking => if german { "Parkgebühren" } else { "Parking" }.into(),
        FareLineKind::Rounding => if german { "Rundung" } else { "Rounding" }.into(),
        FareLineKind::CancellationFee => if german {
            "Stornogebühr"
        } else {
            "Cancellation fee"
        }
        .into(),
    }
}

struct Labels {
    invoice: &'static str,
    number: &'static str,
    date: &'static str,
    billed_to: &'static str,
    service: &'static str,
    ride: &'static str,
    cancellation: &'static str,
    pickup: &'static str,
    dropoff: &'static str,
    hours: &'static str,
    booking: &'static str,
    description: &'static str,
    amount: &'static str,
    net: &'static str,
    vat: &'static str,
    total: &'static str,
    payment: &'static str,
    payment_open: &'static str,
    vat_id: &'static str,
    inclusive: &'static str,
}

fn labels(language: Language) -> Labels {
    match language {
        Language::German => Labels {
            invoice: "Rechnung",
            number: "Rechnungsnummer",
            date: "Rechnungsdatum",
            billed_to: "Rechnungsempfänger",
            service: "Leistung",
            ride: "Chauffeurfahrt",
            cancellation: "Stornierung",
            pickup: "Abholung",
            dropoff: "Ziel",
            hours: "Dauer",
            booking: "Buchung",
            description: "Beschreibung",
            amount: "Betrag (brutto)",
            net: "Nettobetrag",
            vat: "Umsatzsteuer",
            total: "Gesamtbetrag",
            payment: "Zahlungsart",
            payment_open: "offen",
            vat_id: "USt-IdNr.",
            inclusive: "Alle Preise enthalten die gesetzliche Umsatzsteuer.",
        },
        Language::English => Labels {
            invoice: "Invoice",
            number: "Invoice number",
            date: "Invoice date",
            billed_to: "Billed to",
            service: "Service",
            ride: "Chauffeur ride",
            cancellation: "Cancellation",
            pickup: "Pickup",
            dropoff: "Drop-off",
            hours: "Duration",
            booking: "Booking",
            description: "Description",
            amount: "Amount (incl. VAT)",
            net: "Net amount",
            vat: "VAT",
            total: "Total",
            payment: "Payment",
            payment_open: "outstanding",
            vat_id: "VAT ID",
            inclusive: "All prices include VAT.",
        },
    }
}

fn class_name(class: VehicleClass, language: Language) -> &'static str {
    match (class, language) {
        (VehicleClass::Business, _) => "Business",
        (VehicleClass::First, _) => "First",
        (VehicleClass::Van, Language::German) => "Van",
        (VehicleClass::Van, Language::English) => "Van",
    }
}

/// Lines of text at positions: the page as a list, so that the layout is plain to read.
struct Page {
    texts: Vec<(f32, f32, bool, f32, String)>,
    y: f32,
}

impl Page {
    const LEFT: f32 = 56.0;
    const AMOUNT_X: f32 = 420.0;

    fn line(&mut self, text: impl Into<String>, size: f32, bold: bool) {
        self.texts
            .push((Self::LEFT, self.y, bold, size, text.into()));
        self.y += size * 1.45;
    }

    fn row(&mut self, left: impl Into<String>, right: impl Into<String>, bold: bool) {
        self.texts
            .push((Self::LEFT, self.y, bold, 10.0, left.into()));
        self.texts
            .push((Self::AMOUNT_X, self.y, bold, 10.0, right.into()));
        self.y += 15.0;
    }

    fn gap(&mut self, points: f32) {
        self.y += points;
    }
}

/// Renders the invoice.
pub fn render(invoice: &InvoiceView, language: Language) -> Result<Vec<u8>, PdfError> {
    let (regular, bold) = fonts()?;
    let l = labels(language);
    let mut page = Page {
        texts: Vec::new(),
        y: 64.0,
    };
    let issuer = &invoice.issuer;
    page.line(issuer.name.clone(), 14.0, true);
    for line in &issuer.address {
        page.line(line.clone(), 9.0, false);
    }
    page.line(format!("{} {}", l.vat_id, issuer.vat_id), 9.0, false);
    if let Some(registration) = &issuer.registration {
        page.line(registration.clone(), 9.0, false);
    }
    if let Some(email) = &issuer.email {
        page.line(email.clone(), 9.0, false);
    }
    page.gap(18.0);
    page.line(l.invoice, 20.0, true);
    page.row(l.number, invoice.number.clone(), false);
    let date = match language {
        Language::German => invoice.issued_at.format("%d.%m.%Y").to_string(),
        Language::English => invoice.issued_at.format("%Y-%m-%d").to_string(),
    };
    page.row(l.date, date, false);
    page.row(l.billed_to, invoice.billed_to.clone(), false);
    page.line(
        format!("{}: {}", l.booking, invoice.booking_id),
        10.0,
        false,
    );
    page.gap(12.0);

    let service = &invoice.service;
    let what = match invoice.kind {
        InvoiceKind::Ride => l.ride,
        InvoiceKind::CancellationFee => l.cancellation,
    };
    page.line(l.service, 12.0, true);
    page.line(
        format!(
            "{what}, {} {}, {}",
            class_name(service.class, language),
            match service.product {
                ProductKind::Transfer => "Transfer",
                ProductKind::Hourly => match language {
                    Language::German => "Stundenbuchung",
                    Language::English => "by the hour",
                },
            },
            service.city_name
        ),
        10.0,
        false,
    );
    let when = match language {
        Language::German => service.pickup_local.format("%d.%m.%Y %H:%M").to_string(),
        Language::English => service.pickup_local.format("%Y-%m-%d %H:%M").to_string(),
    };
    let route = &service.route;
    page.line(
        format!(
            "{}: {when}, {:.5}, {:.5}",
            l.pickup, route.pickup.lat, route.pickup.lon
        ),
        10.0,
        false,
    );
    if let Some(dropoff) = route.dropoff {
        page.line(
            format!("{}: {:.5}, {:.5}", l.dropoff, dropoff.lat, dropoff.lon),
            10.0,
            false,
        );
    }
    if let Some(hours) = route.hours {
        page.line(format!("{}: {hours} h", l.hours), 10.0, false);
    }
    page.gap(12.0);

    page.row(l.description, l.amount, true);
    for line in &invoice.lines {
        let amount = MoneyView {
            amount_minor: line.amount_minor,
            currency: invoice.currency.clone(),
            formatted: String::new(),
        };
        page.row(
            line_description(line, language),
            money(&amount, language),
            false,
        );
    }
    page.gap(8.0);
    page.row(l.net, money(&invoice.net, language), false);
    for row in &invoice.vat {
        page.row(
            format!("{} {}", l.vat, percent(row.rate_bp, language)),
            money(&row.vat, language),
            false,
        );
    }
    page.row(l.total, money(&invoice.total, language), true);
    page.gap(12.0);
    page.line(
        format!(
            "{}: {}",
            l.payment,
            invoice.payment_method.as_deref().unwrap_or(l.payment_open)
        ),
        10.0,
        false,
    );
    page.line(l.inclusive, 9.0, false);

    let mut document = Document::new();
    let settings =
        PageSettings::from_wh(595.0, 842.0).ok_or_else(|| PdfError::Write("page size".into()))?;
    let mut pdf_page = document.start_page_with(settings);
    let mut surface = pdf_page.surface();
    for (x, y, is_bold, size, text) in &page.texts {
        let font = if *is_bold { bold } else { regular };
        surface.draw_text(
            Point::from_xy(*x, *y),
            font.clone(),
            *size,
            text,
            false,
            TextDirection::Auto,
        );
    }
    surface.finish();
    pdf_page.finish();
    document
        .finish()
        .map_err(|e| PdfError::Write(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(amount_minor: i64) -> MoneyView {
        MoneyView {
            amount_minor,
            currency: "EUR".into(),
            formatted: String::new(),
        }
    }

    #[test]
    fn amounts_are_written_the_way_each_language_writes_them() {
        assert_eq!(money(&eur(123_450), Language::English), "EUR 1,234.50");
        assert_eq!(money(&eur(123_450), Language::German), "1.234,50 EUR");
        assert_eq!(money(&eur(5), Language::German), "0,05 EUR");
        assert_eq!(percent(1900, Language::German), "19 %");
        assert_eq!(percent(770, Language::English), "7.7 %");
    }

    #[test]
    fn the_language_comes_from_the_query_then_the_browser() {
        assert_eq!(Language::choose(Some("de"), None), Language::German);
        assert_eq!(
            Language::choose(None, Some("de-DE,de;q=0.9,en;q=0.8")),
            Language::German
        );
        assert_eq!(Language::choose(Some("en"), Some("de")), Language::English);
        assert_eq!(Language::choose(None, None), Language::English);
    }
}
