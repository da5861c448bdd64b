import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The session token's store on this platform: the Keychain where the Security framework exists
/// (iOS, macOS), a private file store elsewhere (Linux). `directory` is used by the file store
/// only.
public func platformSecureStorage(directory: URL) throws -> SecureStorage {
  #if canImport(Security)
    return KeychainSecureStorage()
  #else
    return try FileSecureStorage(directory: directory)
  #endif
}

private func storageError(_ what: String) -> ChauffeurError {
  .Storage(code: "secure_storage", detail: what)
}

#if canImport(Security)
  import Security

  /// The token in the Keychain, this device only, readable after the first unlock (so a ride's
  /// background refresh can use it).
  public final class KeychainSecureStorage: SecureStorage, @unchecked Sendable {
    private let service: String

    public init(service: String = "com.chauffeur.rider") {
      self.service = service
    }

    private func query(_ key: String) -> [CFString: Any] {
      [kSecClass: kSecClassGenericPassword, kSecAttrService: service, kSecAttrAccount: key]
    }

    public func load(key: String) throws -> String? {
      var query = query(key)
      query[kSecReturnData] = true
      query[kSecMatchLimit] = kSecMatchLimitOne
      var item: CFTypeRef?
      let status = SecItemCopyMatching(query as CFDictionary, &item)
      if status == errSecItemNotFound { return nil }
      guard status == errSecSuccess, let data = item as? Data,
        let value = String(data: data, encoding: .utf8)
      else {
        throw storageError("Keychain read failed (\(status))")
      }
      return value
    }

    public func save(key: String, value: String) throws {
      try delete(key: key)
      var item = query(key)
      item[kSecValueData] = Data(value.utf8)
      item[kSecAttrAccessible] = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
      let status = SecItemAdd(item as CFDictionary, nil)
      guard status == errSecSuccess else { throw storageError("Keychain write failed (\(status))") }
    }

    public func delete(key: String) throws {
      let status = SecItemDelete(query(key) as CFDictionary)
      guard status == errSecSuccess || status == errSecItemNotFound else {
        throw storageError("Keychain delete failed (\(status))")
      }
    }
  }
#else
  /// One file per key in a private directory (0700), each file readable by its owner only
  /// (0600), replaced atomically. For platforms without a Keychain (Linux desktops, tests).
  public final class FileSecureStorage: SecureStorage, @unchecked Sendable {
    public let directory: URL
    private let lock = NSLock()

    public init(directory: URL) throws {
      self.directory = directory
      do {
        try FileManager.default.createDirectory(
          at: directory, withIntermediateDirectories: true,
          attributes: [.posixPermissions: 0o700])
        try FileManager.default.setAttributes(
          [.posixPermissions: 0o700], ofItemAtPath: directory.path)
      } catch {
        throw storageError("cannot make the secure storage directory: \(error)")
      }
    }

    /// The file of a key; a key is made of letters, digits, `_` and `-` (others are hex-escaped).
    public func file(of key: String) -> URL {
      let safe = key.unicodeScalars.map { scalar -> String in
        let plain = CharacterSet.alphanumerics.contains(scalar) && scalar.isASCII
        return plain || scalar == "_" || scalar == "-" ? String(scalar) : "%\(scalar.value)"
      }
      return directory.appendingPathComponent(safe.joined())
    }

    public func load(key: String) throws -> String? {
      lock.lock()
      defer { lock.unlock() }
      let path = file(of: key).path
      guard FileManager.default.fileExists(atPath: path) else { return nil }
      guard let data = FileManager.default.contents(atPath: path),
        let value = String(data: data, encoding: .utf8)
      else {
        throw storageError("cannot read \(path)")
      }
      return value
    }

    public func save(key: String, value: String) throws {
      lock.lock()
      defer { lock.unlock() }
      let target = file(of: key)
      let temporary = directory.appendingPathComponent(".\(UUID().uuidString).tmp")
      // Created 0600 before anything is written, then renamed over the old file: never readable
      // by others, never half-written.
      let descriptor = open(temporary.path, O_CREAT | O_EXCL | O_WRONLY, 0o600)
      guard descriptor >= 0 else {
        throw storageError("cannot create \(temporary.path) (errno \(errno))")
      }
      let bytes = Array(value.utf8)
      let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
      let synced = fsync(descriptor) == 0
      close(descriptor)
      guard written == bytes.count, synced else {
        try? FileManager.default.removeItem(at: temporary)
        throw storageError("cannot write \(temporary.path)")
      }
      guard rename(temporary.path, target.path) == 0 else {
        try? FileManager.default.removeItem(at: temporary)
        throw storageError("cannot replace \(target.path) (errno \(errno))")
      }
    }

    public func delete(key: String) throws {
      lock.lock()
      defer { lock.unlock() }
      let target = file(of: key)
      guard FileManager.default.fileExists(atPath: target.path) else { return }
      do {
        try FileManager.default.removeItem(at: target)
      } catch {
        throw storageError("cannot delete \(target.path): \(error)")
      }
    }
  }
#endif
