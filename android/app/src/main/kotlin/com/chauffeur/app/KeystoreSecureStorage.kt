package com.chauffeur.app

import android.content.Context
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.util.Base64
import com.chauffeur.sdk.ChauffeurException
import com.chauffeur.sdk.SecureStorage
import java.security.KeyStore
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * The SDK's secure storage on the Android Keystore: each value is encrypted with an AES-GCM key
 * that never leaves the Keystore, and the ciphertext kept in private preferences. A wiped
 * Keystore (or a backup restored on another phone) leaves ciphertext that no longer decrypts:
 * `load` then answers "nothing stored", and the SDK shows the rider signed out.
 */
class KeystoreSecureStorage(context: Context) : SecureStorage {
    private val prefs = context.getSharedPreferences("chauffeur_secure", Context.MODE_PRIVATE)
    private val keyStore = KeyStore.getInstance(KEYSTORE).apply { load(null) }

    private fun key(): SecretKey {
        (keyStore.getEntry(ALIAS, null) as? KeyStore.SecretKeyEntry)?.let { return it.secretKey }
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, KEYSTORE)
        generator.init(
            KeyGenParameterSpec.Builder(ALIAS, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .build(),
        )
        return generator.generateKey()
    }

    override fun load(key: String): String? {
        val stored = prefs.getString(key, null) ?: return null
        return try {
            val bytes = Base64.decode(stored, Base64.NO_WRAP)
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.DECRYPT_MODE, key(), GCMParameterSpec(128, bytes, 0, IV_BYTES))
            String(cipher.doFinal(bytes, IV_BYTES, bytes.size - IV_BYTES), Charsets.UTF_8)
        } catch (e: java.security.GeneralSecurityException) {
            prefs.edit().remove(key).apply() // the key is gone: the value is unreadable for good
            null
        }
    }

    override fun save(key: String, value: String) {
        try {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.ENCRYPT_MODE, key())
            val sealed = cipher.iv + cipher.doFinal(value.toByteArray(Charsets.UTF_8))
            if (!prefs.edit().putString(key, Base64.encodeToString(sealed, Base64.NO_WRAP)).commit()) {
                throw ChauffeurException.Storage("storage", "the secure store could not be written")
            }
        } catch (e: java.security.GeneralSecurityException) {
            throw ChauffeurException.Storage("storage", "the Keystore refused: ${e.message}")
        }
    }

    override fun delete(key: String) {
        prefs.edit().remove(key).commit()
    }

    private companion object {
        const val KEYSTORE = "AndroidKeyStore"
        const val ALIAS = "chauffeur_session"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val IV_BYTES = 12
    }
}
