// Texts in German and English, and locale-aware formatting of money and times. The language
// comes from the browser (German first: the home market) and can be switched; the choice is kept.

/** @typedef {'de' | 'en'} Lang */
/** @typedef {{amount_minor: number, currency: string, formatted?: string}} Money */

/** @type {Record<Lang, Record<string, string>>} */
const TEXTS = {
  en: {
    'app.title': 'Chauffeur — book a ride',
    'console.title': 'Chauffeur console',
    'nav.book': 'Book a ride',
    'nav.bookings': 'My bookings',
    'nav.account': 'Account',
    'nav.logout': 'Log out',
    'nav.language': 'Language',
    'quote.heading': 'Where and when',
    'quote.city': 'City',
    'quote.product': 'Kind of ride',
    'quote.transfer': 'Transfer (A to B)',
    'quote.hourly': 'By the hour',
    'quote.pickup': 'Pickup',
    'quote.dropoff': 'Drop-off',
    'quote.hours': 'Hours',
    'quote.search_hint': 'Type a place or pick it on the map',
    'quote.pick_on_map': 'Pick on map',
    'quote.picking': 'Click the map to set the {what}',
    'quote.map': 'Map: click to set the pickup or drop-off',
    'quote.date': 'Date',
    'quote.time': 'Time ({zone})',
    'quote.dst': 'This time happens twice (clocks go back). Which one?',
    'quote.dst_earlier': 'The first (summer time)',
    'quote.dst_later': 'The second (winter time)',
    'quote.passengers': 'Passengers',
    'quote.bags': 'Bags',
    'quote.child_seats': 'Child seats',
    'quote.meet_and_greet': 'Meet & greet (name sign)',
    'quote.submit': 'See prices',
    'quote.point': 'Point on the map ({lat}, {lon})',
    'quote.no_places': 'No place found — pick it on the map',
    'quotes.heading': 'Choose your class',
    'quotes.valid_until': 'Price held until {time}',
    'quotes.vat': 'incl. {rate} VAT ({amount})',
    'quotes.net': 'Net {amount}',
    'quotes.choose': 'Book {class}',
    'quotes.breakdown': 'Price breakdown',
    'quotes.distance': '{km} km, about {min} min',
    'class.business': 'Business',
    'class.first': 'First',
    'class.van': 'Van',
    'line.base': 'Base fare',
    'line.distance': 'Distance',
    'line.time': 'Time',
    'line.hours': 'Hours',
    'line.minimum_fare': 'Minimum fare top-up',
    'line.airport_pickup': 'Airport pickup',
    'line.meet_and_greet': 'Meet & greet',
    'line.night': 'Night surcharge',
    'line.child_seats': 'Child seats',
    'line.extra_stops': 'Extra stops',
    'line.waiting': 'Waiting',
    'line.extra_km': 'Extra kilometres',
    'line.extra_time': 'Extra time',
    'line.tolls': 'Tolls',
    'line.parking': 'Parking',
    'line.rounding': 'Rounding',
    'book.heading': 'Your booking',
    'book.guest': 'Someone else rides (guest)',
    'book.guest_name': 'Passenger name',
    'book.guest_phone': 'Passenger phone (e.g. +49 30 1234567)',
    'book.flight': 'Flight number (e.g. LH 123)',
    'book.notes': 'Notes to the chauffeur',
    'book.submit': 'Book for {price}',
    'book.need_account': 'Sign up or log in to book.',
    'book.done': 'Booked. We are finding your chauffeur.',
    'book.card_step': 'Booked. Your bank asks you to confirm the card; we look for a chauffeur once it is done.',
    'book.card': 'Card',
    'pay.test_visa': 'Test card: Visa (approved)',
    'pay.test_3ds': 'Test card: needs a bank check (3-D Secure)',
    'pay.test_declined': 'Test card: declined',
    'pay.test_hint': 'Test payments: no real card is charged. The price plus {percent} for waiting and extras is held, and only the final fare is taken after the ride.',
    'pay.unavailable': 'No card form',
    'pay.provider_script_missing': 'Card payments need the payment provider’s card form, which this page does not include. Book in the app.',
    'pay.status.requires_action': 'Waiting for your bank’s check',
    'pay.status.authorized': 'Held on your card',
    'pay.status.captured': 'Paid',
    'pay.status.released': 'Hold released, nothing charged',
    'pay.status.failed': 'Not charged',
    'pay.status.partially_refunded': 'Paid, partly refunded',
    'pay.status.refunded': 'Refunded',
    'pay.held': 'Held',
    'pay.captured': 'Charged',
    'pay.extra': 'Charged separately',
    'pay.refund': 'Refunded',
    'pay.failure': 'Note',
    'account.heading': 'Your account',
    'account.signup': 'Sign up',
    'account.login': 'Log in',
    'account.email': 'E-mail',
    'account.password': 'Password (at least 10 characters)',
    'account.password_login': 'Password',
    'account.name': 'Name',
    'account.phone': 'Phone (optional)',
    'account.signed_in': 'Signed in as {email}',
    'bookings.heading': 'My bookings',
    'bookings.none': 'No bookings yet.',
    'bookings.open': 'Open',
    'booking.heading': 'Booking',
    'booking.state': 'Status',
    'booking.pickup_at': 'Pickup',
    'booking.price': 'Price',
    'booking.final_price': 'Final price',
    'booking.payment': 'Payment',
    'booking.payment_status': 'Status',
    'booking.payment_check': 'Check the card step again',
    'booking.invoice': 'Download the invoice (PDF)',
    'booking.invoice_unavailable': 'The invoice could not be loaded; try again.',
    'booking.route': 'Route',
    'booking.passenger': 'Passenger',
    'booking.flight': 'Flight',
    'booking.notes': 'Notes',
    'booking.history': 'History',
    'booking.live': 'Live',
    'booking.eta': 'Your chauffeur is about {min} min away',
    'booking.chauffeur_at': 'Chauffeur seen at {time}',
    'booking.cancel': 'Cancel this ride',
    'booking.cancel_fee': 'Cancelling now costs {fee}.',
    'booking.cancel_free': 'Cancelling now is free.',
    'booking.cancel_changes': 'The fee goes up at {time}.',
    'booking.cancel_confirm': 'Yes, cancel for {fee}',
    'booking.cancel_keep': 'Keep my ride',
    'booking.cancelled': 'Cancelled. Fee: {fee}',
    'booking.receipt': 'Receipt',
    'booking.receipt_pending': 'The receipt is ready when the ride is completed.',
    'booking.total': 'Total',
    'booking.net': 'Net',
    'booking.vat': 'VAT',
    'booking.back': 'Back to my bookings',
    'state.pending': 'Finding a chauffeur',
    'state.payment_pending': 'Waiting for the card check',
    'state.confirmed': 'Confirmed',
    'state.chauffeur_assigned': 'Chauffeur assigned',
    'state.en_route': 'Chauffeur on the way',
    'state.arrived': 'Chauffeur has arrived',
    'state.on_board': 'On board',
    'state.completed': 'Completed',
    'state.cancelled': 'Cancelled',
    'state.no_show': 'No-show',
    'state.unfulfilled': 'No chauffeur found',
    'actor.rider': 'You',
    'actor.partner': 'Partner',
    'actor.chauffeur': 'Chauffeur',
    'actor.operator': 'Operator',
    'actor.system': 'System',
    'console.login': 'Log in to the console',
    'console.role': 'Signed in as {name} ({role})',
    'console.offers': 'Offers',
    'console.no_offers': 'No open offers.',
    'console.accept': 'Accept',
    'console.decline': 'Decline',
    'console.expires': 'answer by {time}',
    'console.rides': 'Rides',
    'console.day': 'Day',
    'console.state_filter': 'State',
    'console.all': 'All',
    'console.no_rides': 'No rides.',
    'console.assign': 'Assign',
    'console.chauffeur': 'Chauffeur',
    'console.vehicle': 'Vehicle',
    'console.give_back': 'Give back',
    'console.chauffeurs': 'Chauffeurs',
    'console.vehicles': 'Vehicles',
    'console.seats_bags': '{seats} seats, {bags} bags',
    'console.inactive': 'inactive',
    'console.party': '{passengers} passengers, {bags} bags',
    'console.my_rides': 'My rides',
    'console.share': 'Sharing your position',
    'console.share_off': 'Position not shared',
    'console.status.en_route': 'On my way',
    'console.status.arrived': 'Arrived',
    'console.status.on_board': 'Passenger on board',
    'console.status.completed': 'Complete ride',
    'console.status.no_show': 'Passenger did not show',
    'console.partners': 'Partners',
    'console.new_partner': 'New partner',
    'console.partner_name': 'Name',
    'console.partner_cities': 'Cities (ids, comma separated)',
    'console.partner_classes': 'Classes (business, first, van)',
    'console.new_member': 'New member',
    'console.partner': 'Partner',
    'console.member_role': 'Role',
    'console.role.partner': 'Dispatcher',
    'console.role.chauffeur': 'Chauffeur',
    'console.role.operator': 'Operator',
    'console.role.rider': 'Rider',
    'console.new_vehicle': 'New vehicle',
    'console.plate': 'Plate',
    'console.class': 'Class',
    'console.seats': 'Seats',
    'console.bags': 'Bags',
    'console.members': 'Members',
    'console.save': 'Save',
    'console.saved': 'Saved.',
    'console.cities': 'Cities',
    'console.classes': 'Classes',
    'console.not_console': 'This account is a rider account: book on the booking page.',
    'error.card_declined': 'Your card was declined. Try another card; nothing was booked.',
    'error.payment_method_required': 'Choose a card to book.',
    'error.payment_method_invalid': 'This card cannot be used; choose another.',
    'error.payment_unavailable': 'Card payments are unavailable for a moment; try again (nothing was booked).',
    'error.payment_attempt_expired': 'This booking attempt expired; book again.',
    'error.generic': 'Something went wrong. Please try again.',
    'error.network': 'We cannot reach the service. Check your connection and try again.',
    'error.busy': 'The service is busy. Please try again in a moment.',
    'error.unauthenticated': 'Please log in again.',
    'error.email_taken': 'An account with this e-mail exists already. Log in instead.',
    'error.invalid_email': 'This does not look like an e-mail address.',
    'error.password_too_short': 'Use at least 10 characters.',
    'error.password_too_long': 'This password is too long.',
    'error.password_too_common': 'This password is too common. Choose another.',
    'error.password_control_characters': 'The password contains characters we cannot accept.',
    'error.invalid_credentials': 'E-mail or password is not right.',
    'error.too_many_attempts': 'Too many attempts. Wait a minute and try again.',
    'error.invalid_phone': 'Write the phone number with its country code, e.g. +49 30 1234567.',
    'error.flight_number_required': 'For an airport pickup we need the flight number.',
    'error.invalid_flight_number': 'Write the flight number like LH 123.',
    'error.pickup_in_past': 'This time has passed. Choose a later time.',
    'error.pickup_too_soon': 'This is too soon. Choose a later time.',
    'error.pickup_too_far_ahead': 'This is too far ahead. Choose an earlier date.',
    'error.pickup_in_dst_gap': 'This time does not exist on that day (clocks go forward). Choose another.',
    'error.pickup_time_ambiguous': 'This time happens twice on that day. Choose which one.',
    'error.outside_service_area': 'This place is outside the area we serve in this city.',
    'error.invalid_coordinates': 'This place is not valid. Pick it again.',
    'error.capacity_exceeded': 'No vehicle takes this many passengers and bags. Split the party.',
    'error.hours_out_of_range': 'Choose a number of hours we offer.',
    'error.quote_expired': 'The price is no longer held. See the prices again.',
    'error.quote_invalid': 'The price is no longer valid. See the prices again.',
    'error.cancellation_fee_changed': 'The fee has just changed. Check the new fee.',
    'error.cancellation_not_allowed': 'This ride can no longer be cancelled.',
    'error.on_demand_unavailable': 'Rides right now are not offered here. Choose a time.',
    'error.required': 'Please fill this in.',
    'error.pick_place': 'Choose a place from the list or on the map.',
    'error.offer_taken': 'Another partner took this ride first.',
    'error.offer_expired': 'The time to answer ran out.',
    'error.chauffeur_busy': 'This chauffeur has a ride at the same time.',
    'error.unfit_vehicle': 'This vehicle does not fit the ride (class or size).',
    'error.status_too_early': 'It is too early for this status.',
    'error.illegal_transition': 'This step is not possible now.',
    'error.give_back_too_late': 'Too late to give this ride back.',
    'error.geolocation': 'Your browser does not share the position.',
  },
  de: {
    'app.title': 'Chauffeur — Fahrt buchen',
    'console.title': 'Chauffeur-Konsole',
    'nav.book': 'Fahrt buchen',
    'nav.bookings': 'Meine Buchungen',
    'nav.account': 'Konto',
    'nav.logout': 'Abmelden',
    'nav.language': 'Sprache',
    'quote.heading': 'Wo und wann',
    'quote.city': 'Stadt',
    'quote.product': 'Art der Fahrt',
    'quote.transfer': 'Transfer (von A nach B)',
    'quote.hourly': 'Stundenweise',
    'quote.pickup': 'Abholung',
    'quote.dropoff': 'Ziel',
    'quote.hours': 'Stunden',
    'quote.search_hint': 'Ort eingeben oder auf der Karte wählen',
    'quote.pick_on_map': 'Auf Karte wählen',
    'quote.picking': 'Klicken Sie auf die Karte: {what}',
    'quote.map': 'Karte: klicken, um Abholung oder Ziel zu setzen',
    'quote.date': 'Datum',
    'quote.time': 'Uhrzeit ({zone})',
    'quote.dst': 'Diese Uhrzeit gibt es zweimal (Zeitumstellung). Welche?',
    'quote.dst_earlier': 'Die erste (Sommerzeit)',
    'quote.dst_later': 'Die zweite (Winterzeit)',
    'quote.passengers': 'Fahrgäste',
    'quote.bags': 'Gepäckstücke',
    'quote.child_seats': 'Kindersitze',
    'quote.meet_and_greet': 'Empfang mit Namensschild',
    'quote.submit': 'Preise ansehen',
    'quote.point': 'Punkt auf der Karte ({lat}, {lon})',
    'quote.no_places': 'Kein Ort gefunden — bitte auf der Karte wählen',
    'quotes.heading': 'Wählen Sie Ihre Klasse',
    'quotes.valid_until': 'Preis gilt bis {time}',
    'quotes.vat': 'inkl. {rate} MwSt. ({amount})',
    'quotes.net': 'Netto {amount}',
    'quotes.choose': '{class} buchen',
    'quotes.breakdown': 'Preisaufstellung',
    'quotes.distance': '{km} km, etwa {min} Min.',
    'class.business': 'Business',
    'class.first': 'First',
    'class.van': 'Van',
    'line.base': 'Grundpreis',
    'line.distance': 'Strecke',
    'line.time': 'Fahrzeit',
    'line.hours': 'Stunden',
    'line.minimum_fare': 'Aufschlag auf Mindestpreis',
    'line.airport_pickup': 'Abholung am Flughafen',
    'line.meet_and_greet': 'Empfang mit Namensschild',
    'line.night': 'Nachtzuschlag',
    'line.child_seats': 'Kindersitze',
    'line.extra_stops': 'Zwischenstopps',
    'line.waiting': 'Wartezeit',
    'line.extra_km': 'Zusätzliche Kilometer',
    'line.extra_time': 'Zusätzliche Zeit',
    'line.tolls': 'Maut',
    'line.parking': 'Parken',
    'line.rounding': 'Rundung',
    'book.heading': 'Ihre Buchung',
    'book.guest': 'Jemand anderes fährt (Gast)',
    'book.guest_name': 'Name des Fahrgasts',
    'book.guest_phone': 'Telefon des Fahrgasts (z. B. +49 30 1234567)',
    'book.flight': 'Flugnummer (z. B. LH 123)',
    'book.notes': 'Hinweise für den Chauffeur',
    'book.submit': 'Für {price} buchen',
    'book.need_account': 'Registrieren Sie sich oder melden Sie sich an, um zu buchen.',
    'book.done': 'Gebucht. Wir suchen Ihren Chauffeur.',
    'book.card_step': 'Gebucht. Ihre Bank bittet Sie, die Karte zu bestätigen; danach suchen wir Ihren Chauffeur.',
    'book.card': 'Karte',
    'pay.test_visa': 'Testkarte: Visa (genehmigt)',
    'pay.test_3ds': 'Testkarte: mit Bankprüfung (3-D Secure)',
    'pay.test_declined': 'Testkarte: abgelehnt',
    'pay.test_hint': 'Testzahlungen: Es wird keine echte Karte belastet. Der Preis plus {percent} für Wartezeit und Extras wird vorgemerkt; abgebucht wird nach der Fahrt nur der Endpreis.',
    'pay.unavailable': 'Kein Kartenformular',
    'pay.provider_script_missing': 'Kartenzahlung braucht das Kartenformular des Zahlungsanbieters, das diese Seite nicht enthält. Buchen Sie in der App.',
    'pay.status.requires_action': 'Wartet auf die Prüfung Ihrer Bank',
    'pay.status.authorized': 'Auf Ihrer Karte vorgemerkt',
    'pay.status.captured': 'Bezahlt',
    'pay.status.released': 'Vormerkung aufgehoben, nichts abgebucht',
    'pay.status.failed': 'Nicht abgebucht',
    'pay.status.partially_refunded': 'Bezahlt, teilweise erstattet',
    'pay.status.refunded': 'Erstattet',
    'pay.held': 'Vorgemerkt',
    'pay.captured': 'Abgebucht',
    'pay.extra': 'Separat abgebucht',
    'pay.refund': 'Erstattet',
    'pay.failure': 'Hinweis',
    'account.heading': 'Ihr Konto',
    'account.signup': 'Registrieren',
    'account.login': 'Anmelden',
    'account.email': 'E-Mail',
    'account.password': 'Passwort (mindestens 10 Zeichen)',
    'account.password_login': 'Passwort',
    'account.name': 'Name',
    'account.phone': 'Telefon (optional)',
    'account.signed_in': 'Angemeldet als {email}',
    'bookings.heading': 'Meine Buchungen',
    'bookings.none': 'Noch keine Buchungen.',
    'bookings.open': 'Öffnen',
    'booking.heading': 'Buchung',
    'booking.state': 'Status',
    'booking.pickup_at': 'Abholung',
    'booking.price': 'Preis',
    'booking.final_price': 'Endpreis',
    'booking.payment': 'Zahlung',
    'booking.payment_status': 'Stand',
    'booking.payment_check': 'Kartenprüfung erneut abfragen',
    'booking.invoice': 'Rechnung herunterladen (PDF)',
    'booking.invoice_unavailable': 'Die Rechnung konnte nicht geladen werden; bitte erneut versuchen.',
    'booking.route': 'Strecke',
    'booking.passenger': 'Fahrgast',
    'booking.flight': 'Flug',
    'booking.notes': 'Hinweise',
    'booking.history': 'Verlauf',
    'booking.live': 'Live',
    'booking.eta': 'Ihr Chauffeur ist etwa {min} Min. entfernt',
    'booking.chauffeur_at': 'Chauffeur gesehen um {time}',
    'booking.cancel': 'Diese Fahrt stornieren',
    'booking.cancel_fee': 'Eine Stornierung kostet jetzt {fee}.',
    'booking.cancel_free': 'Eine Stornierung ist jetzt kostenlos.',
    'booking.cancel_changes': 'Die Gebühr steigt um {time}.',
    'booking.cancel_confirm': 'Ja, für {fee} stornieren',
    'booking.cancel_keep': 'Fahrt behalten',
    'booking.cancelled': 'Storniert. Gebühr: {fee}',
    'booking.receipt': 'Beleg',
    'booking.receipt_pending': 'Der Beleg ist fertig, wenn die Fahrt abgeschlossen ist.',
    'booking.total': 'Gesamt',
    'booking.net': 'Netto',
    'booking.vat': 'MwSt.',
    'booking.back': 'Zurück zu meinen Buchungen',
    'state.pending': 'Chauffeur wird gesucht',
    'state.payment_pending': 'Wartet auf die Kartenprüfung',
    'state.confirmed': 'Bestätigt',
    'state.chauffeur_assigned': 'Chauffeur zugeteilt',
    'state.en_route': 'Chauffeur ist unterwegs',
    'state.arrived': 'Chauffeur ist da',
    'state.on_board': 'An Bord',
    'state.completed': 'Abgeschlossen',
    'state.cancelled': 'Storniert',
    'state.no_show': 'Nicht erschienen',
    'state.unfulfilled': 'Kein Chauffeur gefunden',
    'actor.rider': 'Sie',
    'actor.partner': 'Partner',
    'actor.chauffeur': 'Chauffeur',
    'actor.operator': 'Betreiber',
    'actor.system': 'System',
    'console.login': 'In der Konsole anmelden',
    'console.role': 'Angemeldet als {name} ({role})',
    'console.offers': 'Angebote',
    'console.no_offers': 'Keine offenen Angebote.',
    'console.accept': 'Annehmen',
    'console.decline': 'Ablehnen',
    'console.expires': 'Antwort bis {time}',
    'console.rides': 'Fahrten',
    'console.day': 'Tag',
    'console.state_filter': 'Status',
    'console.all': 'Alle',
    'console.no_rides': 'Keine Fahrten.',
    'console.assign': 'Zuteilen',
    'console.chauffeur': 'Chauffeur',
    'console.vehicle': 'Fahrzeug',
    'console.give_back': 'Zurückgeben',
    'console.chauffeurs': 'Chauffeure',
    'console.vehicles': 'Fahrzeuge',
    'console.seats_bags': '{seats} Sitze, {bags} Gepäckstücke',
    'console.inactive': 'inaktiv',
    'console.party': '{passengers} Fahrgäste, {bags} Gepäckstücke',
    'console.my_rides': 'Meine Fahrten',
    'console.share': 'Ihre Position wird geteilt',
    'console.share_off': 'Position wird nicht geteilt',
    'console.status.en_route': 'Bin unterwegs',
    'console.status.arrived': 'Angekommen',
    'console.status.on_board': 'Fahrgast an Bord',
    'console.status.completed': 'Fahrt abschließen',
    'console.status.no_show': 'Fahrgast nicht erschienen',
    'console.partners': 'Partner',
    'console.new_partner': 'Neuer Partner',
    'console.partner_name': 'Name',
    'console.partner_cities': 'Städte (IDs, durch Komma getrennt)',
    'console.partner_classes': 'Klassen (business, first, van)',
    'console.new_member': 'Neues Mitglied',
    'console.partner': 'Partner',
    'console.member_role': 'Rolle',
    'console.role.partner': 'Disponent',
    'console.role.chauffeur': 'Chauffeur',
    'console.role.operator': 'Betreiber',
    'console.role.rider': 'Fahrgast',
    'console.new_vehicle': 'Neues Fahrzeug',
    'console.plate': 'Kennzeichen',
    'console.class': 'Klasse',
    'console.seats': 'Sitze',
    'console.bags': 'Gepäckstücke',
    'console.members': 'Mitglieder',
    'console.save': 'Speichern',
    'console.saved': 'Gespeichert.',
    'console.cities': 'Städte',
    'console.classes': 'Klassen',
    'console.not_console': 'Dies ist ein Fahrgastkonto: Buchen Sie auf der Buchungsseite.',
    'error.card_declined': 'Ihre Karte wurde abgelehnt. Versuchen Sie eine andere Karte; es wurde nichts gebucht.',
    'error.payment_method_required': 'Wählen Sie eine Karte, um zu buchen.',
    'error.payment_method_invalid': 'Diese Karte kann nicht verwendet werden; wählen Sie eine andere.',
    'error.payment_unavailable': 'Kartenzahlung ist gerade nicht möglich; bitte erneut versuchen (es wurde nichts gebucht).',
    'error.payment_attempt_expired': 'Dieser Buchungsversuch ist abgelaufen; bitte neu buchen.',
    'error.generic': 'Etwas ist schiefgegangen. Bitte versuchen Sie es erneut.',
    'error.network': 'Der Dienst ist nicht erreichbar. Prüfen Sie Ihre Verbindung.',
    'error.busy': 'Der Dienst ist ausgelastet. Bitte gleich noch einmal versuchen.',
    'error.unauthenticated': 'Bitte melden Sie sich erneut an.',
    'error.email_taken': 'Zu dieser E-Mail gibt es schon ein Konto. Bitte anmelden.',
    'error.invalid_email': 'Das sieht nicht nach einer E-Mail-Adresse aus.',
    'error.password_too_short': 'Mindestens 10 Zeichen verwenden.',
    'error.password_too_long': 'Dieses Passwort ist zu lang.',
    'error.password_too_common': 'Dieses Passwort ist zu verbreitet. Bitte ein anderes wählen.',
    'error.password_control_characters': 'Das Passwort enthält Zeichen, die wir nicht annehmen.',
    'error.invalid_credentials': 'E-Mail oder Passwort stimmt nicht.',
    'error.too_many_attempts': 'Zu viele Versuche. Bitte eine Minute warten.',
    'error.invalid_phone': 'Telefonnummer mit Landesvorwahl, z. B. +49 30 1234567.',
    'error.flight_number_required': 'Für eine Abholung am Flughafen brauchen wir die Flugnummer.',
    'error.invalid_flight_number': 'Flugnummer wie LH 123 schreiben.',
    'error.pickup_in_past': 'Diese Zeit ist vorbei. Bitte eine spätere wählen.',
    'error.pickup_too_soon': 'Das ist zu kurzfristig. Bitte eine spätere Zeit wählen.',
    'error.pickup_too_far_ahead': 'Das liegt zu weit in der Zukunft. Bitte ein früheres Datum wählen.',
    'error.pickup_in_dst_gap': 'Diese Uhrzeit gibt es an dem Tag nicht (Zeitumstellung). Bitte eine andere wählen.',
    'error.pickup_time_ambiguous': 'Diese Uhrzeit gibt es an dem Tag zweimal. Bitte wählen Sie welche.',
    'error.outside_service_area': 'Dieser Ort liegt außerhalb unseres Gebiets in dieser Stadt.',
    'error.invalid_coordinates': 'Dieser Ort ist ungültig. Bitte neu wählen.',
    'error.capacity_exceeded': 'Kein Fahrzeug fasst so viele Fahrgäste und Gepäckstücke.',
    'error.hours_out_of_range': 'Bitte eine angebotene Stundenzahl wählen.',
    'error.quote_expired': 'Der Preis gilt nicht mehr. Bitte Preise neu ansehen.',
    'error.quote_invalid': 'Der Preis ist nicht mehr gültig. Bitte Preise neu ansehen.',
    'error.cancellation_fee_changed': 'Die Gebühr hat sich gerade geändert. Bitte neue Gebühr prüfen.',
    'error.cancellation_not_allowed': 'Diese Fahrt kann nicht mehr storniert werden.',
    'error.on_demand_unavailable': 'Sofortfahrten gibt es hier nicht. Bitte eine Zeit wählen.',
    'error.required': 'Bitte ausfüllen.',
    'error.pick_place': 'Bitte einen Ort aus der Liste oder auf der Karte wählen.',
    'error.offer_taken': 'Ein anderer Partner war schneller.',
    'error.offer_expired': 'Die Antwortzeit ist abgelaufen.',
    'error.chauffeur_busy': 'Dieser Chauffeur hat zur selben Zeit eine Fahrt.',
    'error.unfit_vehicle': 'Dieses Fahrzeug passt nicht zur Fahrt (Klasse oder Größe).',
    'error.status_too_early': 'Für diesen Status ist es zu früh.',
    'error.illegal_transition': 'Dieser Schritt ist jetzt nicht möglich.',
    'error.give_back_too_late': 'Zu spät, um die Fahrt zurückzugeben.',
    'error.geolocation': 'Ihr Browser teilt die Position nicht.',
  },
};

const STORAGE_KEY = 'chauffeur.lang';

/** @returns {Lang} */
function initialLang() {
  const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
  if (saved === 'de' || saved === 'en') return saved;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = String(tag).slice(0, 2).toLowerCase();
    if (base === 'de' || base === 'en') return base;
  }
  return 'de';
}

/** @type {Lang} */
let current = initialLang();

/** @returns {Lang} */
export function lang() {
  return current;
}

/** @param {Lang} next */
export function setLang(next) {
  current = next;
  globalThis.localStorage?.setItem(STORAGE_KEY, next);
  document.documentElement.lang = next;
}

/**
 * The text for `key`, with `{name}` placeholders filled in.
 * @param {string} key
 * @param {Record<string, string | number>} [params]
 */
export function t(key, params = {}) {
  const text = TEXTS[current][key] ?? TEXTS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? `{${name}}`));
}

/** @param {string} key */
export function has(key) {
  return key in TEXTS[current];
}

/**
 * Fills the texts of `root`: `data-i18n` (text), `data-i18n-placeholder`, `data-i18n-label`
 * (aria-label).
 * @param {ParentNode} root
 */
export function applyTexts(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(/** @type {string} */ (el.getAttribute('data-i18n')));
  }
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) {
    el.setAttribute('placeholder', t(/** @type {string} */ (el.getAttribute('data-i18n-placeholder'))));
  }
  for (const el of root.querySelectorAll('[data-i18n-label]')) {
    el.setAttribute('aria-label', t(/** @type {string} */ (el.getAttribute('data-i18n-label'))));
  }
}

const locale = () => (current === 'de' ? 'de-DE' : 'en-GB');

/**
 * Money in the language's format, from minor units (the currency's own decimals).
 * @param {Money | null | undefined} money
 */
export function formatMoney(money) {
  if (!money) return '—';
  const format = new Intl.NumberFormat(locale(), { style: 'currency', currency: money.currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(money.amount_minor / 10 ** digits);
}

/**
 * A date and time shown in the city's time zone (with the zone's short name).
 * @param {string} instant ISO 8601 UTC
 * @param {string | undefined} timeZone IANA zone
 */
export function formatDateTime(instant, timeZone) {
  // dateStyle/timeStyle cannot be combined with timeZoneName, so the parts are named.
  return new Intl.DateTimeFormat(locale(), {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZone,
    timeZoneName: 'short',
  }).format(new Date(instant));
}

/**
 * @param {string} instant
 * @param {string | undefined} timeZone
 */
export function formatTime(instant, timeZone) {
  return new Intl.DateTimeFormat(locale(), { timeStyle: 'short', timeZone }).format(new Date(instant));
}

/** @param {number} basisPoints */
export function formatPercent(basisPoints) {
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 2 }).format(
    basisPoints / 10000,
  );
}

/** @param {number} value */
export function formatNumber(value) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(value);
}

/**
 * A problem from the API in words a rider understands: its code's text, else a general one.
 * @param {{code?: string, detail?: string}} problem
 */
export function problemText(problem) {
  const key = `error.${problem.code}`;
  if (problem.code && has(key)) return t(key);
  if (problem.code === 'storage_unavailable' || problem.code === 'timeout') return t('error.busy');
  return t('error.generic');
}
