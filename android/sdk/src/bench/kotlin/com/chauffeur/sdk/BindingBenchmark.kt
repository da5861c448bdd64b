package com.chauffeur.sdk

import java.time.Instant

/**
 * The cost of one fare estimate through the Kotlin binding against the same call made inside
 * Rust, in one process and one run (scripts/bench-sdk.sh). Prints nanoseconds per call and the
 * ratio; the difference is what crossing the FFI costs (lowering the form, lifting the quotes).
 */
fun main(args: Array<String>) {
    val iterations = args.firstOrNull()?.toInt() ?: 20_000
    val form = quoteForm(
        cityId = "berlin", pickup = LatLon(52.3667, 13.5033), dropoff = LatLon(52.5219, 13.4132),
        pickupLocal = LocalDateTime(year = 2027, month = 2, day = 9, hour = 14, minute = 0), passengers = 2, bags = 2,
    )
    val now = Instant.parse("2027-02-01T10:00:00Z")
    repeat(3) { // warm-up: JIT, the shipped catalog, JNA's method lookups
        repeat(iterations / 4) { estimateFares(form, now) }
        benchmarkEstimateInRust(form, now, iterations / 4)
    }
    // Best of five rounds on each side: the least disturbed measurement of each.
    var kotlin = Double.MAX_VALUE
    var rust = Double.MAX_VALUE
    var trivial = Double.MAX_VALUE
    repeat(5) {
        val t0 = System.nanoTime()
        repeat(iterations) { sdkVersion() }
        trivial = minOf(trivial, (System.nanoTime() - t0).toDouble() / iterations)
        val started = System.nanoTime()
        repeat(iterations) { estimateFares(form, now) }
        kotlin = minOf(kotlin, (System.nanoTime() - started).toDouble() / iterations)
        rust = minOf(rust, benchmarkEstimateInRust(form, now, iterations).toDouble() / iterations)
    }
    println("estimate_fares (3 classes, Berlin BER -> Alexanderplatz), $iterations calls, best of 5 rounds:")
    println("  through the Kotlin binding: %.0f ns/call".format(kotlin))
    println("  the same call inside Rust:  %.0f ns/call".format(rust))
    println("  ratio Kotlin/Rust:          %.2fx (binding overhead %.0f ns/call)".format(kotlin / rust, kotlin - rust))
    println("  for scale, a call taking nothing and returning a short string (sdk_version): %.0f ns".format(trivial))
}
