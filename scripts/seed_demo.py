"""Seeds the emulator with a demo user pool (MFA required, TOTP enabled), an app client that
allows ADMIN_USER_PASSWORD_AUTH, a verified SES sender, and one user with a TOTP authenticator.
Prints shell exports for the service. Used by scripts/dev.sh only."""

import sys

import boto3

endpoint, sender = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=endpoint, region_name="us-east-1",
          aws_access_key_id="testing", aws_secret_access_key="testing")
idp = boto3.client("cognito-idp", **kw)
boto3.client("sesv2", **kw).create_email_identity(EmailIdentity=sender)

pool = idp.create_user_pool(PoolName="demo", MfaConfiguration="ON")["UserPool"]["Id"]
idp.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration="ON",
                             SoftwareTokenMfaConfiguration={"Enabled": True})
client = idp.create_user_pool_client(
    UserPoolId=pool, ClientName="mfa-recovery",
    ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
)["UserPoolClient"]["ClientId"]

user, password = "demo", "Demo-Passw0rd!"
idp.admin_create_user(UserPoolId=pool, Username=user, MessageAction="SUPPRESS", UserAttributes=[
    {"Name": "email", "Value": "demo@example.com"}, {"Name": "email_verified", "Value": "true"}])
idp.admin_set_user_password(UserPoolId=pool, Username=user, Password=password, Permanent=True)
# Enrol a TOTP authenticator the way an app does: MFA_SETUP, associate, verify, prefer.
auth = idp.admin_initiate_auth(UserPoolId=pool, ClientId=client, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": user, "PASSWORD": password})
session = idp.associate_software_token(Session=auth["Session"])["Session"]
idp.verify_software_token(Session=session, UserCode="123456")
idp.admin_set_user_mfa_preference(UserPoolId=pool, Username=user,
                                  SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})

print(f"export COGNITO_USER_POOL_ID={pool}")
print(f"export COGNITO_CLIENT_ID={client}")
