# The staff console's words, in English only: the console is for the operator's own staff. Every
# other file exists in each shipped language.

page-staff-service = Account recovery · staff
page-staff-title = Staff console
page-staff-signed-in-as = Signed in as
page-staff-roles = What you may do
page-staff-role-support = Support desk: find users, start and cancel recoveries
page-staff-role-approver = Approver: approve recoveries other people started
page-staff-role-auditor = Auditor: read and verify the recovery log
page-staff-sign-out = Sign out
page-staff-signed-out-title = Signed out
page-staff-signed-out-body = You signed out of the staff console. Your session has ended on the server too.
page-staff-sign-in-again = Sign in again
page-staff-problem-title = You could not be signed in
page-staff-refused-title = That was not done
page-staff-session-ended = Your session has ended. Sign in again; what you typed was not sent.
page-staff-not-in-group = Your groups at the company's sign-in do not include this part of the console. Ask whoever manages the groups.
page-staff-back = Back to the console
page-staff-find-title = Find a user
page-staff-find-label = Username or email
page-staff-find-hint = The name they sign in with, or the email address on their account.
page-staff-find-button = Find
page-staff-query-invalid = Type a username or an email address: 1 to 128 characters, without spaces at the ends or control characters.
page-staff-user-title = User
page-staff-username = Username
page-staff-email = Email
page-staff-phone = Phone
page-staff-none-verified = none verified
page-staff-factors = How they sign in
page-staff-factor-totp = Authenticator app (TOTP)
page-staff-factor-sms = Codes by text message (MFA)
page-staff-factor-email = Codes by email (MFA)
page-staff-factor-password = Password
page-staff-factor-sms-sign-in = Sign-in codes by text message
page-staff-factor-email-sign-in = Sign-in codes by email
page-staff-factor-passkey = Passkey (no administrator can remove it: the user removes it after enrolling a new authenticator)
page-staff-remembered-devices = Remembered devices
page-staff-disabled = This account is disabled.
page-staff-own-account = This is your own account: you may look, not act. Ask a colleague to help you.
page-staff-cannot-start = No recovery can be started:
page-staff-start-title = Start a recovery
page-staff-start-intro = The user gets a one-time code by email, at the verified address on file. You never see the code, and you cannot remove their authenticator: they do, with the code and their password.
page-staff-reason-label = Reason
page-staff-reason-hint = What the caller asked for. It goes on every event of this recovery.
page-staff-ticket-label = Ticket (optional)
page-staff-verification-label = How you verified the caller
page-staff-verification-call-back = I called back the number the company has on file for them
page-staff-verification-manager = Their manager confirmed who they are
page-staff-verification-in-person = In person, with an identity document
page-staff-verification-other = Another way (describe it below)
page-staff-verification-none = Choose how you verified them
page-staff-verification-detail-label = If another way: what you did
page-staff-verification-another = Another way
page-staff-start-button = Email the user a code
page-staff-unlock-intro = Too many wrong codes? Clearing the lock lets a new code be confirmed at once, with the same reason and verification.
page-staff-unlock-button = Clear a lock instead
page-staff-recoveries-title = Recent recoveries
page-staff-no-recoveries = No recoveries yet.
page-staff-recovery-title = Recovery
page-staff-status = Status
page-staff-started-by = Started by
page-staff-started-at = Started
page-staff-expires-at = Code expires
page-staff-finished-at = Finished
page-staff-cancel-button = Cancel this recovery
page-staff-timeline = Timeline
page-staff-approvals-title = Recoveries waiting for approval
page-staff-approvals-intro = The support desk started these recoveries. The user gets their code only once someone other than the person who started it approves. Check the reason and how the caller was verified first.
page-staff-approvals-none = Nothing is waiting for approval.
page-staff-approvals-mine = You started this recovery: someone else must approve it.
page-staff-approve-button = Approve and email the code to
page-staff-lapses-at = Lapses unapproved at
page-staff-approved-by = Approved by
page-staff-open-approvals = Recoveries waiting for approval
page-staff-audit-title = Audit log
page-staff-chain-title = The chain
page-staff-checkpoint-title = Its head, signed now
page-staff-checkpoint-hint = Keep it in a file: mfa-recovery audit verify --checkpoint FILE later proves, with the public key alone, that the log still holds this event and is intact after it.
page-staff-filter-title = Find events
page-staff-action-label = Action
page-staff-action-any = Any action
page-staff-recovery-id-label = Recovery id
page-staff-since-label = From (inclusive)
page-staff-until-label = Until (exclusive)
page-staff-time-hint = RFC 3339, such as 2026-12-03T08:00:00Z (UTC).
page-staff-filter-button = Show events
page-staff-events-title = Events
page-staff-no-events = No events match.
page-staff-query-malformed = The address's filter could not be read (each filter may appear once). Choose the filters again.
page-staff-by = By
page-staff-next-page = Next page
page-staff-download-title = Download
page-staff-download-hint = The events of this filter, at most 10,000 (mfa-recovery audit export writes them all). Each download is recorded.
page-staff-download-csv = Download CSV
page-staff-download-jsonl = Download JSON lines
page-staff-open-audit = Read the audit log
page-staff-open-keys = Service accounts and who created them
page-staff-keys-title = Service accounts
page-staff-keys-intro = Integrations use the support and audit APIs with the keys of named service accounts. Each key is listed with who created it and what for. The audit log names the key by the same eight characters beside everything done with it. Keys are created and revoked with mfa-recovery staff add and staff revoke.
page-staff-keys-none = No service account has a key.
page-staff-keys-cut = Only the newest 500 keys are listed.
page-staff-key-id = Key
page-staff-key-role = Role
page-staff-key-created = Created
page-staff-key-created-by = Created by
page-staff-key-created-by-unknown = Not recorded (created before this was kept)
page-staff-key-purpose = For
page-staff-key-state = State
page-staff-key-active = Active, with no expiry
page-staff-key-active-until = Active until { $at }
page-staff-key-expired = Expired at { $at }
page-staff-key-revoked = Revoked at { $at }
page-staff-chain-intact = The chain is intact: { $events ->
    [one] one event
   *[other] { $events } events
}, each following from the one before.
page-staff-chain-intact-since = The chain is intact after the checkpoint at event { $seq }: { $events ->
    [one] one event
   *[other] { $events } events
} since, each following from the one before (the checkpoint vouches for what it covers).
page-staff-chain-verify-full = Verify the whole chain, from the first event
page-staff-chain-broken = The chain is broken at event { $seq }: it does not follow from the one before. Nothing from there on can be trusted until it is explained.
page-staff-chain-pending = { $pending ->
    [one] One more event is
   *[other] { $pending } more events are
} waiting to be chained.
page-staff-unlocked = Lock cleared: { $count ->
    [one] one wrong confirmation
   *[other] { $count } wrong confirmations
} forgotten.

## Signing in.
error-staff-idp-unavailable = Your company's sign-in service cannot be reached right now. Try again in a minute.
error-sign-in-failed = This sign-in could not be completed: it took too long, was started in another browser, or could not be verified. Start again.
error-sign-in-needs-mfa = Your sign-in did not use a second factor. Sign in again with your second factor (an authenticator app, a security key or a passkey).
error-sign-in-no-role = You signed in, but you are not in any of the groups that may use this console. Ask your administrator for access.
error-sign-in-no-name = You signed in, but your company's sign-in service gave no name this console can record. Ask your administrator.
