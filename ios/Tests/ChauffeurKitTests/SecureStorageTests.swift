import ChauffeurKit
import Foundation
import XCTest

#if !canImport(Security)
  final class FileSecureStorageTests: XCTestCase {
    func testTheTokenIsKeptInAFileOnlyItsOwnerCanReadAndIsGoneWhenDeleted() throws {
      let install = try Installation()
      let directory = install.directory.appendingPathComponent("secure")
      let storage = try FileSecureStorage(directory: directory)
      XCTAssertNil(try storage.load(key: "session_token"))

      try storage.save(key: "session_token", value: "first")
      try storage.save(key: "session_token", value: "second")
      XCTAssertEqual(try storage.load(key: "session_token"), "second")
      XCTAssertEqual(
        try FileSecureStorage(directory: directory).load(key: "session_token"), "second",
        "another instance (the next start of the app) reads it")

      let manager = FileManager.default
      let file = storage.file(of: "session_token")
      let filePermissions = try manager.attributesOfItem(atPath: file.path)[.posixPermissions]
      XCTAssertEqual((filePermissions as? NSNumber)?.intValue, 0o600)
      let directoryPermissions = try manager.attributesOfItem(atPath: directory.path)[
        .posixPermissions]
      XCTAssertEqual((directoryPermissions as? NSNumber)?.intValue, 0o700)
      XCTAssertEqual(try manager.contentsOfDirectory(atPath: directory.path), ["session_token"])

      try storage.delete(key: "session_token")
      XCTAssertNil(try storage.load(key: "session_token"))
      try storage.delete(key: "session_token")  // deleting what is not there is fine
    }
  }
#endif
