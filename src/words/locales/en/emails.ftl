# The emails. Each paragraph is one message; an email's template holds only its layout.

# How times are written in emails (a chrono strftime pattern; times are in UTC).
time-format = %Y-%m-%d %H:%M:%S UTC

email-when = When:
email-from-address = From address:
email-started-by = Started by:
email-started-by-user = you, on the account recovery page
email-started-by-staff = the support desk (agent { $agent })
email-unknown-address = unknown
# Before how to reach support, at the end of every email (SUPPORT_CONTACT).
email-help = Need help?

## The recovery code.
code-email-subject = Your account recovery code
code-email-ask = Someone asked to remove the authenticator app from your account because the phone holding it was lost. If that was you, enter this recovery code{ $password ->
        [yes] {" "}together with your password
       *[no] {""}
    }
code-email-ask-at = {" "}at
code-email-link = Or open this link instead of typing the code{ $password ->
        [yes] {" "}(you will still be asked for your password)
       *[no] {""}
    }. It works for as long as the code does, even while someone else is trying codes for your account:
code-email-expires = The code works once and expires in { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    }. Once it is accepted, you set up a new authenticator app on the spot.
code-email-then-required = If you stop before that, your next sign-in asks you to set one up.
code-email-then-optional = If you stop before that, your account is protected by your password alone until you add one in your account settings.
code-email-ignore = If you did not ask for this, ignore this email: nothing changes without this code{ $password ->
        [yes] {" "}and your password
       *[no] {""}
    }. Nobody from our team will ever ask you for it.

## The authenticator was removed.
reset-email-subject = Your authenticator app was removed from your account
reset-email-title = Your authenticator app was removed
reset-email-removed = The authenticator app was removed from your account.
reset-email-enrol = Set up the authenticator app on your new phone now: this link works once, for 24 hours, and asks for your password.
reset-email-signed-out = Every device that was signed in has been signed out.
reset-email-then-required = If you did not finish setting up a new authenticator app, your next sign-in asks you to.
reset-email-then-optional = If you did not finish setting up a new authenticator app, your account is protected by your password alone: add one in your account settings now.
reset-email-then-unknown = If you did not finish setting up a new authenticator app, set one up when you next sign in.
reset-email-sms-removed = Sign-in codes by text message (SMS) were turned off too: they went to the lost phone's number. Set your new phone number in your account settings to use them again.
reset-email-email-mfa-remains = Sign-in codes by email still work: they come to this address.
reset-email-passkey-remains = A passkey is still registered on your account. If it was on the lost phone, remove it in your account settings: the recovery cannot remove passkeys.
reset-email-not-you = If this was not you, your password and your email may both be known to someone else: change your password now and contact support.

## The reset waits, cancellable.
scheduled-email-subject = Your authenticator app will be removed: cancel if this was not you
scheduled-email-title = Your authenticator app will be removed
scheduled-email-confirmed = Someone confirmed a request to remove the authenticator app from your account.
scheduled-email-when = The authenticator will be removed at { $at }. Until then nothing changes.
scheduled-email-stop = If this was not you, stop it now with this one-time link, then change your password and the password of this email account:
scheduled-email-then-required = If it was you, there is nothing to do until then. After that time, your next sign-in asks you to set up a new authenticator app.
scheduled-email-then-optional = If it was you, there is nothing to do until then. After that time, set up a new authenticator app in your account settings: until you do, your password alone protects your account.
scheduled-email-then-unknown = If it was you, there is nothing to do until then. After that time, set up a new authenticator app.

## A recovery locked after wrong codes.
locked-email-subject = A recovery of your account was locked after wrong codes
locked-email-title = A recovery of your account was locked
locked-email-what = Someone tried to remove the authenticator app from your account and entered a wrong recovery code { $attempts ->
        [one] once
       *[other] { $attempts } times
    }, so that recovery is now locked. Nothing was changed.
locked-email-then = If this was you, request a new code later. If it was not, someone knows your username and may be trying to take over your account: change your password and keep your authenticator app safe.

## Someone is guessing codes for the account from many addresses (at most once a day).
guessing-email-subject = Someone is trying recovery codes for your account
guessing-email-title = Someone is trying recovery codes for your account
guessing-email-what = In the last 24 hours, wrong recovery codes were entered for your account { $failures ->
        [one] once
       *[other] { $failures } times
    }. Nothing was changed, and for now tries are refused from addresses that did not ask for a code.
guessing-email-owner = If you are recovering your account yourself, confirm from the network you asked for your code from, or use the link in your latest recovery email: guessing from elsewhere does not stop either. Or contact your support desk.
guessing-email-then = If it is not you, someone knows your username: keep your password and your email account safe.

## After the new authenticator: the passkeys the owner removed, and those left.
passkeys-email-subject = Your passkeys after the account recovery
passkeys-email-intro = After the recovery of your account, you set up a new authenticator app and looked at the passkeys registered on your account.
passkeys-email-removed = You removed { $count ->
        [one] this passkey
       *[other] these { $count } passkeys
    }:
passkeys-email-remaining = { $count ->
        [one] This passkey can still sign in to your account
       *[other] These { $count } passkeys can still sign in to your account
    }:
passkeys-email-remaining-then = If one of them was on the lost phone, remove it in your account settings: whoever has that phone and can unlock it can sign in with it.
passkeys-email-passkey = { $name }, added { $added }
passkeys-email-none-left = No passkey is left on your account.
passkeys-email-not-you = If you did not do this, contact support at once and change your password.
