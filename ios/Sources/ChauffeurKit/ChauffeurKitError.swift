import Foundation

/// Every failure of the SDK as a Swift error. Each keeps the stable `code` of the server, the
/// core or the SDK (`offline`, `not_signed_in`, `estimate_not_bookable`, ...) and, for input the
/// rider can fix, the `field` to show it next to; `message` is the core's text for the rider.
public enum ChauffeurKitError: Error, Equatable, Sendable {
  /// Input the rider can fix, shown next to `field`.
  case invalidInput(code: String, field: String, message: String)
  /// The server said no, with its HTTP status.
  case refused(code: String, status: Int, message: String)
  case offline(code: String, message: String)
  case notSignedIn(code: String, message: String)
  /// The flow does not allow this now (no such quote, an estimate, an unknown booking).
  case notAllowed(code: String, message: String)
  /// The device's storage (cache file, secure store) failed.
  case storage(code: String, message: String)
  case unexpected(code: String, message: String)

  /// The SDK's error as a Swift one; anything else thrown across the boundary is unexpected.
  public init(_ error: Error) {
    switch error {
    case let kitError as ChauffeurKitError:
      self = kitError
    case let sdkError as ChauffeurError:
      self.init(sdk: sdkError)
    default:
      self = .unexpected(code: "unexpected", message: String(describing: error))
    }
  }

  private init(sdk error: ChauffeurError) {
    switch error {
    case .InvalidInput(let code, let field, let detail):
      self = .invalidInput(code: code, field: field, message: detail)
    case .Refused(let code, let status, let detail):
      self = .refused(code: code, status: Int(status), message: detail)
    case .Offline(let code, let detail):
      self = .offline(code: code, message: detail)
    case .NotSignedIn(let code, let detail):
      self = .notSignedIn(code: code, message: detail)
    case .NotAllowed(let code, let detail):
      self = .notAllowed(code: code, message: detail)
    case .Storage(let code, let detail):
      self = .storage(code: code, message: detail)
    case .Unexpected(let code, let detail):
      self = .unexpected(code: code, message: detail)
    }
  }

  /// The stable code, to compare with the codes the app knows (an open set: a newer server may
  /// add some).
  public var code: String {
    switch self {
    case .invalidInput(let code, _, _), .refused(let code, _, _), .offline(let code, _),
      .notSignedIn(let code, _), .notAllowed(let code, _), .storage(let code, _),
      .unexpected(let code, _):
      return code
    }
  }

  /// The form field the error belongs next to, for invalid input.
  public var field: String? {
    if case .invalidInput(_, let field, _) = self { return field }
    return nil
  }

  /// The server's HTTP status, for refusals.
  public var status: Int? {
    if case .refused(_, let status, _) = self { return status }
    return nil
  }

  /// The core's explanation for the rider.
  public var message: String {
    switch self {
    case .invalidInput(_, _, let message), .refused(_, _, let message), .offline(_, let message),
      .notSignedIn(_, let message), .notAllowed(_, let message), .storage(_, let message),
      .unexpected(_, let message):
      return message
    }
  }

  /// Runs an SDK call, turning what it throws into a `ChauffeurKitError`.
  public static func wrapping<T>(_ call: () async throws -> T) async throws -> T {
    do {
      return try await call()
    } catch {
      throw ChauffeurKitError(error)
    }
  }

  /// The synchronous form of `wrapping`.
  public static func wrappingSync<T>(_ call: () throws -> T) throws -> T {
    do {
      return try call()
    } catch {
      throw ChauffeurKitError(error)
    }
  }
}

extension ChauffeurKitError: LocalizedError {
  public var errorDescription: String? { message }
}
