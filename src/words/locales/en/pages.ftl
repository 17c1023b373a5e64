# The words of the recovery pages and the cancel page.

# The language's name in itself, shown in the switch between languages.
language-name = English
page-languages-label = Language
page-service = Account recovery
page-start-title = Lost the phone with your authenticator app?
page-start-intro = Enter your username. If your account can be recovered, we email you a one-time code to prove it is you.
page-username-label = Username or email
page-username-hint = The name you sign in with.
page-start-button = Email me a code
page-check-title = Check your email
page-check-intro = If the account can be recovered, an email with an 8-digit code is on its way to the address on file. It can take a minute. The code works once and expires soon.
page-have-code-title = Enter your recovery code
page-have-code-intro = Enter your username, the 8-digit code from the email and your password.
page-have-code-link = Already have a code? Enter it here
page-code-label = Code from the email
page-code-hint = 8 digits, for example 1234 5678.
page-password-label = Your password
page-confirm-button = Remove the lost authenticator
page-start-again = Start again
page-enrol-title = Set up your new authenticator
page-enrol-intro = The authenticator on your lost phone no longer works, and every device was signed out. Add your account to an authenticator app on your new phone now.
page-qr-label = QR code with the key of your new authenticator
page-manual-key = Or type this key into the app:
page-open-in-app = On this phone? Open it in your authenticator app
page-expires = Finish before
page-totp-label = 6-digit code from the app
page-totp-hint = The app shows a new code every 30 seconds.
page-enrol-button = Finish
page-sign-in-code-title = Enter the code we just sent
page-sign-in-code-intro-sms = Your account also signs in with codes by text message, so we just sent one to { $destination }. Enter it to go on to your new authenticator.
page-sign-in-code-intro-email = Your account also signs in with codes by email, so we just sent one to { $destination }. Enter it to go on to your new authenticator.
page-sign-in-code-label = Code from the text message or email
page-sign-in-code-button = Continue
page-sign-in-code-malformed = Enter the 6 to 8 digits of the code we sent.
page-resume-title = Set up your new authenticator
page-resume-intro = Your lost authenticator was removed. Enter your password to add your account to an authenticator app on your new phone.
page-resume-button = Continue
page-link-title = Remove your lost authenticator app
page-link-intro = You opened the link from your recovery email. Confirm to remove the authenticator app on your lost phone from your account; right after, you set up a new one.
page-link-button = Remove it and continue
page-enrolled-title = You are all set
page-enrolled-body = Your new authenticator is ready. When you sign in, enter a code from it.
page-removed-title = Your lost authenticator was removed
page-removed-body = Every device was signed out. When you next sign in, set up an authenticator app on your new phone.
page-scheduled-title = Your authenticator will be removed soon
page-scheduled-body = For your safety there is a waiting period. We emailed you when it ends and how to stop it if this was not you.
page-sign-in = Go to sign-in
page-problem-title = Something needs your attention
page-cancel-title = Stop the removal of your authenticator?
page-cancel-intro = Someone confirmed a request to remove the authenticator app from your account. If it was not you, stop it here.
page-cancel-button = Stop the removal of my authenticator
page-cancelled-title = Stopped
page-cancelled-body = The authenticator will not be removed. If you did not ask for this, change your password now: someone who knows it asked to remove your authenticator.
page-error-prefix = Error:
page-username-invalid = Enter the username or email you sign in with (up to 128 characters).
page-code-invalid = Enter the 8 digits from the email, for example 1234 5678.
page-password-missing = Enter your password.
page-totp-malformed = Enter the 6 digits your authenticator app shows.
page-session-expired = This form has expired, or cookies are blocked. Start again.
page-not-found = There is no such page.
# Before how to reach support, on pages that show a problem (SUPPORT_CONTACT).
page-help = Need help?

## After the new authenticator: the user's passkeys.
page-passkeys-title = Passkeys on your account
page-passkeys-intro = A passkey signs in without the authenticator app. Remove any passkey that was on the lost phone; keep those on devices you still have.
page-passkey-added = added { $added }
page-passkey-remove = Remove { $name }
page-passkey-remove-button = Remove
page-passkey-removed = Passkey removed.
page-passkeys-until = You can remove passkeys here until
page-passkeys-done = Done
page-passkeys-finished = You are signed out everywhere. { $count ->
        [0] No passkey is left on your account.
        [one] One passkey is left on your account; we emailed you its name.
       *[other] { $count } passkeys are left on your account; we emailed you their names.
    }
