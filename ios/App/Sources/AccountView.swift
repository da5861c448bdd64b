import ChauffeurKit
import SwiftUI

/// Sign in or sign up; signed in, who and signing out.
struct AccountView: View {
  let model: RiderModel
  @State private var email = ""
  @State private var password = ""
  @State private var name = ""
  @State private var newAccount = false

  var body: some View {
    Form {
      if let signedIn = model.state.signedInAs {
        LabeledContent("Signed in as", value: signedIn)
        Button("Sign out", role: .destructive) { run { try await model.logOut() } }
      } else {
        Picker("", selection: $newAccount) {
          Text("Sign in").tag(false)
          Text("New account").tag(true)
        }
        .pickerStyle(.segmented)
        TextField("Email", text: $email).textContentType(.emailAddress).textInputAutocapitalization(
          .never)
        SecureField("Password", text: $password).textContentType(
          newAccount ? .newPassword : .password)
        if newAccount {
          TextField("Name (optional)", text: $name).textContentType(.name)
        }
        if let error = model.error {
          Text(error.message).foregroundStyle(.red)
        }
        Button(newAccount ? "Create account" : "Sign in") {
          run {
            if newAccount {
              try await model.signUp(
                email: email, password: password, name: name.isEmpty ? nil : name)
            } else {
              try await model.logIn(email: email, password: password)
            }
          }
        }
        .disabled(model.busy)
      }
    }
    .navigationTitle("Account")
  }
}
