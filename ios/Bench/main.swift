// The cost of one fare estimate through the Swift binding against the same call made inside
// Rust, in one process and one run (scripts/bench-sdk.sh, via scripts/swift-test.sh --bench).
// Prints nanoseconds per call and the ratio; the difference is what crossing the FFI costs
// (lowering the form, lifting the quotes). A copy of the Kotlin benchmark's method.
import ChauffeurKit
import Foundation

let iterations = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 20_000
let form = QuoteForm.make(
  cityId: "berlin", pickup: LatLon(lat: 52.3667, lon: 13.5033),
  dropoff: LatLon(lat: 52.5219, lon: 13.4132),
  pickupLocal: LocalDateTime(year: 2027, month: 2, day: 9, hour: 14, minute: 0), passengers: 2,
  bags: 2)
let now = Date(timeIntervalSince1970: 1_801_389_600)  // 2027-02-01T10:00:00Z

func nanoseconds(_ body: () throws -> Void) rethrows -> Double {
  let started = DispatchTime.now().uptimeNanoseconds
  try body()
  return Double(DispatchTime.now().uptimeNanoseconds - started)
}

do {
  for _ in 0..<3 {  // warm-up: the shipped catalog, the caches
    for _ in 0..<(iterations / 4) { _ = try estimateFares(form: form, now: now) }
    _ = try benchmarkEstimateInRust(
      form: form, now: now, iterations: Int32(clamping: iterations / 4))
  }
  // Best of five rounds on each side: the least disturbed measurement of each.
  var swift = Double.greatestFiniteMagnitude
  var rust = Double.greatestFiniteMagnitude
  var trivial = Double.greatestFiniteMagnitude
  for _ in 0..<5 {
    trivial = min(
      trivial, nanoseconds { for _ in 0..<iterations { _ = sdkVersion() } } / Double(iterations))
    let round = try nanoseconds {
      for _ in 0..<iterations { _ = try estimateFares(form: form, now: now) }
    }
    swift = min(swift, round / Double(iterations))
    let inRust = try benchmarkEstimateInRust(
      form: form, now: now, iterations: Int32(clamping: iterations))
    rust = min(rust, Double(inRust) / Double(iterations))
  }
  print("estimate_fares (3 classes, Berlin BER -> Alexanderplatz), \(iterations) calls,")
  print("best of 5 rounds:")
  print(String(format: "  through the Swift binding: %.0f ns/call", swift))
  print(String(format: "  the same call inside Rust: %.0f ns/call", rust))
  print(
    String(
      format: "  ratio Swift/Rust:          %.2fx (binding overhead %.0f ns/call)", swift / rust,
      swift - rust))
  print(
    String(
      format:
        "  for scale, a call taking nothing and returning a short string (sdk_version): %.0f ns",
      trivial))
} catch {
  print("benchmark failed: \(ChauffeurKitError(error).message)")
  exit(1)
}
