import Foundation

/// Every failure of the SDK as a Swift error. Each keeps the stable `code` of the server, the
/// core or the SDK (`offline`, `not_signed_in`, `estimate_not_bookable`, ...) and, for input the
/// rider can fix, the `field` to show it next to; `message` is the core's text for the rider.
public enum ChauffeurKitError: Error, Equatable, Sendable {
  /// Input the rider can fix, shown next to `field`.
  case invalidInput(code: String, field: String, message: String)
  /// The server said no, with its HTTP status.
  case refused(code: String, status: UInt16, message: String)
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
    case let .InvalidInput(code, field, detail):
      self = .invalidInput(code: code, field: field, message: detail)
    case let .Refused(code, status, detail):
      self = .refused(code: code, status: status, message: detail)
    case let .Offline(code, detail):
      self = .offline(code: code, message: detail)
    case let .NotSignedIn(code, detail):
      self = .notSignedIn(code: code, message: detail)
    case let .NotAllowed(code, detail):
      self = .notAllowed(code: code, message: detail)
    case let .Storage(code, detail):
      self = .storage(code: code, message: detail)
    case let .Unexpected(code, detail):
      self = .unexpected(code: code, message: detail)
    }
  }

  /// The stable code, to compare with the codes the app knows (an open set: a newer server may
  /// add some).
  public var code: String {
    switch self {
    case let .invalidInput(code, _, _), let .refused(code, _, _), let .offline(code, _),
      let .notSignedIn(code, _), let .notAllowed(code, _), let .storage(code, _),
      let .unexpected(code, _):
      return code
    }
  }

  /// The form field the error belongs next to, for invalid input.
  public var field: String? {
    if case let .invalidInput(_, field, _) = self { return field }
    return nil
  }

  /// The server's HTTP status, for refusals.
  public var status: UInt16? {
    if case let .refused(_, status, _) = self { return status }
    return nil
  }

  /// The core's explanation for the rider.
  public var message: String {
    switch self {
    case let .invalidInput(_, _, message), let .refused(_, _, message), let .offline(_, message),
      let .notSignedIn(_, message), let .notAllowed(_, message), let .storage(_, message),
      let .unexpected(_, message):
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
  public static func wrapping<T>(_ call: () throws -> T) throws -> T {
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
