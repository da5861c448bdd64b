import Foundation
import XCTest

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// The real `chauffeur-server dev` that scripts/swift-test.sh started on a free loopback port
/// (demo partners, SQLite, `--test-clock`), reached over HTTP for what is not the rider's: the
/// partner accepting, the test clock.
enum TestServer {
  static func url() throws -> String {
    guard let url = ProcessInfo.processInfo.environment["CHAUFFEUR_SERVER_URL"], !url.isEmpty
    else {
      throw XCTSkip("CHAUFFEUR_SERVER_URL is not set: run scripts/swift-test.sh")
    }
    return url
  }

  struct Answer {
    let status: Int
    let json: [String: Any]
  }

  static func send(
    _ method: String, _ path: String, json: [String: Any]? = nil, token: String? = nil
  ) async throws -> Answer {
    guard let url = URL(string: try url() + path) else { throw URLError(.badURL) }
    var request = URLRequest(url: url, timeoutInterval: 30)
    request.httpMethod = method
    if let json {
      request.setValue("application/json", forHTTPHeaderField: "content-type")
      request.httpBody = try JSONSerialization.data(withJSONObject: json)
    }
    if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "authorization") }
    let (data, response) = try await load(request)
    let status = (response as? HTTPURLResponse)?.statusCode ?? 0
    let object =
      data.isEmpty ? [:] : (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    return Answer(status: status, json: object ?? [:])
  }

  /// URLSession's completion-handler form (its async methods are not in every Linux Foundation).
  private typealias Loaded = (Data, URLResponse)

  private static func load(_ request: URLRequest) async throws -> Loaded {
    try await withCheckedThrowingContinuation { (done: CheckedContinuation<Loaded, Error>) in
      URLSession.shared.dataTask(with: request) { data, response, error in
        if let data, let response {
          done.resume(returning: (data, response))
        } else {
          done.resume(throwing: error ?? URLError(.badServerResponse))
        }
      }.resume()
    }
  }

  /// Logs in over HTTP and returns the bearer token.
  static func logIn(email: String, password: String) async throws -> String {
    let answer = try await send(
      "POST", "/v1/sessions", json: ["email": email, "password": password])
    guard answer.status == 201, let token = answer.json["token"] as? String else {
      throw URLError(.userAuthenticationRequired)
    }
    return token
  }

  /// The demo partner accepts the offer for `bookingId` once dispatch has made it.
  static func partnerAccepts(bookingId: String) async throws {
    let token = try await logIn(email: "partner@demo.chauffeur.test", password: "demo-partner-pass")
    for _ in 0..<150 {  // 30 s
      let offers = try await send("GET", "/v1/partner/offers", token: token)
      XCTAssertEqual(offers.status, 200)
      let list = offers.json["offers"] as? [[String: Any]] ?? []
      if let offer = list.first(where: { $0["booking_id"] as? String == bookingId }),
        let id = offer["id"] as? String
      {
        let accepted = try await send("POST", "/v1/partner/offers/\(id)/accept", token: token)
        XCTAssertEqual(accepted.status, 200, "accept: \(accepted.json)")
        return
      }
      try await Task.sleep(nanoseconds: 200_000_000)
    }
    XCTFail("no offer for \(bookingId) within 30 s")
  }

  /// Moves the server's clock forward (the server runs with --test-clock).
  static func moveClock(seconds: Int) async throws {
    let moved = try await send("POST", "/v1/test/clock", json: ["seconds": seconds])
    XCTAssertTrue((200..<300).contains(moved.status), "move the clock: \(moved.status)")
  }
}
