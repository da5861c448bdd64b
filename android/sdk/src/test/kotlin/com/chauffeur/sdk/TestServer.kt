package com.chauffeur.sdk

import java.io.File
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.time.Duration
import java.util.concurrent.TimeUnit

/**
 * The card the dev server's test payment provider authorises (server/src/payments/double.rs):
 * the dev server takes payments, so a booking needs a payment method.
 */
const val TEST_CARD = "pm_card_visa"

/**
 * A real `chauffeur-server dev` process (SQLite, demo partners) on a free loopback port, with
 * its throwaway data in a private temporary directory. The binary comes from the system property
 * `chauffeur.server` (scripts/kotlin-test.sh sets it).
 */
class TestServer : AutoCloseable {
    val dir: File = Files.createTempDirectory("chauffeur-kotlin").toFile()
    private val process: Process
    val base: String

    init {
        val binary = System.getProperty("chauffeur.server")
            ?: error("set -Dchauffeur.server=<path of the chauffeur-server binary>")
        val builder = ProcessBuilder(
            binary, "dev", "--listen", "127.0.0.1:0", "--hashing-permits", "2",
            "--dispatch-batch-size", "10", "--dispatch-interval-ms", "200",
        )
        builder.environment()["TMPDIR"] = dir.absolutePath
        builder.environment()["CHAUFFEUR_LOG"] = "warn"
        builder.redirectError(ProcessBuilder.Redirect.INHERIT)
        process = builder.start()
        val stdout = process.inputStream.bufferedReader()
        val first = stdout.readLine() ?: error("the server exited before listening")
        base = first.removePrefix("listening on ").trim()
        check(base.startsWith("http://")) { "unexpected first line: $first" }
        // Keep draining what `dev` prints so it never blocks on a full pipe.
        Thread { stdout.lineSequence().forEach { } }.apply { isDaemon = true }.start()
    }

    private val http: HttpClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()

    fun post(path: String, json: String = "", token: String? = null): Pair<Int, String> {
        val request = HttpRequest.newBuilder(URI.create(base + path))
            .header("content-type", "application/json")
            .timeout(Duration.ofSeconds(30))
            .POST(HttpRequest.BodyPublishers.ofString(json))
        token?.let { request.header("authorization", "Bearer $it") }
        val response = http.send(request.build(), HttpResponse.BodyHandlers.ofString())
        return response.statusCode() to response.body()
    }

    fun get(path: String, token: String): Pair<Int, String> {
        val request = HttpRequest.newBuilder(URI.create(base + path))
            .header("authorization", "Bearer $token")
            .timeout(Duration.ofSeconds(30))
            .GET()
            .build()
        val response = http.send(request, HttpResponse.BodyHandlers.ofString())
        return response.statusCode() to response.body()
    }

    /** Logs in over HTTP (the partner's side is not the SDK's) and returns the bearer token. */
    fun logIn(email: String, password: String): String {
        val (status, body) = post("/v1/sessions", """{"email":"$email","password":"$password"}""")
        check(status == 201) { "log in as $email: $status $body" }
        return Regex("\"token\":\"([^\"]+)\"").find(body)?.groupValues?.get(1)
            ?: error("no token in $body")
    }

    /** The demo partner accepts the offer for `bookingId` once dispatch has made it. */
    fun partnerAccepts(bookingId: String) {
        val token = logIn("partner@demo.chauffeur.test", "demo-partner-pass")
        val offer = Regex("\\{\"id\":\"([^\"]+)\",\"booking_id\":\"$bookingId\"")
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
        while (System.nanoTime() < deadline) {
            val (status, body) = get("/v1/partner/offers", token)
            check(status == 200) { "partner offers: $status $body" }
            val id = offer.find(body)?.groupValues?.get(1)
            if (id != null) {
                val (accepted, answer) = post("/v1/partner/offers/$id/accept", token = token)
                check(accepted == 200) { "accept: $accepted $answer" }
                return
            }
            Thread.sleep(200)
        }
        error("no offer for $bookingId within 30 s")
    }

    override fun close() {
        process.destroy()
        if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly()
        dir.deleteRecursively()
    }
}
