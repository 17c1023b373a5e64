# What each failure of a use case says, the same in a problem's `detail` and on a page.
# Waits are whole minutes ($minutes), singular or plural by the language's rules.

error-invalid-recovery = That code or password is not right, or the code has expired or was replaced by a newer one. Check the latest email, or ask for a new code.
error-locked = Too many wrong codes were typed from this network, so this code no longer works here. Ask for a new code later, or ask support to clear the lock.
error-account-throttled = Too many wrong attempts for this account lately. Try again in { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    }.
error-address-limited = Too many requests from your network. Try again in { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    }.
error-limits-unavailable = The service cannot check its limits right now, so nothing was done. Try again shortly.
error-database-unavailable = The service cannot reach its database right now, so nothing was done. Try again in a few seconds.
error-busy = We are very busy right now. Nothing was checked and your code still works: try again in a few seconds.
error-reset-in-progress = Your lost authenticator is being removed. Try again in a few seconds with the same code to see it done.
error-idp-unavailable-code-kept = We could not reach the sign-in service. Your code still works: try again in a minute. If the removal had begun, the service finishes it on its own.
error-reset-not-applied = The sign-in service did not remove the lost authenticator, so nothing was changed. Please contact support; the attempt was recorded.
error-internal = Something went wrong on our side. Nothing was lost: please try again.
error-invalid-totp = That code does not match. Check that the app shows this account, then type its current code.
error-invalid-sign-in-code = That is not the code we just sent. Check the newest text message or email and type its code.
error-enrollment-gone = This setup step has expired or was already used. Sign in: you will be asked to set up your authenticator app.
error-enrol-link-invalid = This link has expired or was already used, or the password is not right. If you already set up a new authenticator app, there is nothing more to do.
error-idp-unavailable-enrollment-kept = We could not reach the sign-in service. Your setup is still open: try again in a minute.
error-enrollment-not-applied = The sign-in service accepted the code but did not make the app your sign-in factor. Sign in to set up your app, or contact support; the attempt was recorded.
error-passkey-not-found = That passkey is not on your account (any more). The list shows those that are.
error-passkey-not-removed = The sign-in service did not remove that passkey. Try again, or remove it in your account settings.
error-cancel-link-invalid = This link is not valid: it was already used, or the removal was already applied or cancelled. If you did not ask for a recovery, change your password and contact support.
error-user-not-found = No user of the pool has this username, alias or email address.
error-several-users = { $count } users have this email address. Search by their username instead.
error-own-account = This is your own account. Ask a colleague: nobody at the support desk acts on their own account.
error-self-approval = You started this recovery: someone else with the approver role must approve it.
error-not-approvable = This recovery is { $status }: there is nothing to approve.
error-reason-required = A reason is required: 1 to { $max } characters, such as what the caller asked for, without control characters.
error-ticket-invalid = A ticket reference is at most { $max } characters, without control characters.
error-verification-detail-required = Describe how you verified the caller: 1 to { $max } characters.
error-no-verified-email = The user has no verified email address, so no code can be sent. Verify the address in Cognito first.
error-nothing-to-recover = The user has { $missing }, so there is nothing to recover.
error-user-disabled = The user is disabled in Cognito, so no code is sent. Enable the user first if the recovery is legitimate.
error-email-budget-spent = The service's hourly email budget is spent, so no code could be sent and nothing was queued. Try again in { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    }.
error-support-quota-spent = { $started } recoveries were started for this user in the last 24 hours{ $per-day ->
        [none] {""}
       *[other] {" "}(at most { $per-day })
    }.
error-recovery-not-found = No such recovery.
error-not-cancellable = The recovery is { $status } and can no longer be cancelled.
error-idp-refuses-pool = The identity provider refuses to let the service read the user pool, so nothing was queued. This is a configuration problem: tell the operator.
error-idp-unavailable-nothing-queued = The identity provider could not be reached. Nothing was queued: try again shortly.

# The title of each problem code: the problem+json `title` and the heading of a page that shows one.
title-invalid-request = Invalid request
title-invalid-recovery = Invalid recovery
title-too-many-attempts = Too many attempts
title-rate-limited = Rate limited
title-identity-provider-unavailable = Identity provider unavailable
title-mfa-reset-failed = Authenticator not removed
title-reset-in-progress = Reset in progress
title-unauthorized = Unauthorized
title-forbidden = Forbidden
title-user-not-found = User not found
title-no-verified-email = No verified email
title-no-totp-authenticator = No authenticator
title-user-disabled = User disabled
title-email-budget-spent = Email budget spent
title-recovery-not-found = Recovery not found
title-recovery-not-cancellable = Recovery not cancellable
title-invalid-cancel-token = Invalid cancel link
title-invalid-totp = Invalid code
title-invalid-sign-in-code = Invalid code
title-invalid-enrollment = Invalid enrollment
title-enrollment-failed = Authenticator not set up
title-passkey-not-found = Passkey not found
title-passkey-not-removed = Passkey not removed
title-payload-too-large = Payload too large
title-unsupported-media-type = Unsupported media type
title-not-found = Not found
title-method-not-allowed = Method not allowed
title-service-unavailable = Service unavailable
title-not-ready = Not ready
title-internal-error = Internal error
title-sign-in-failed = Sign-in failed
title-several-users = Several users
title-own-account = Your own account
title-self-approval = Your own request
title-recovery-not-approvable = Nothing to approve
