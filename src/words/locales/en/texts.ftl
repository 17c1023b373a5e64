# The texts (SMS) that go with notices: no code and no link. $name is the service's name.

text-reset = { $name }: the authenticator app was removed from your account after a recovery. If this was not you, read the email we sent and contact support now.
text-scheduled = { $name }: a recovery of your account will remove its authenticator app. If this was not you, read the email we sent now to stop it.
text-locked = { $name }: a recovery of your account was locked after wrong codes. If this was not you, read the email we sent.
