# The AWS side mfa-recovery needs: a user pool with TOTP MFA, an app client that allows
# ADMIN_USER_PASSWORD_AUTH, a verified SES identity, and an IAM role with exactly the actions the
# service calls (deploy/iam-policy.json, scoped here to this pool and identity).
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}

variable "region" { default = "eu-west-1" }
variable "from_address" { default = "no-reply@example.com" }
variable "eks_oidc_provider_arn" { description = "for IRSA; drop the role if you run elsewhere" }
variable "eks_oidc_provider_url" {}

provider "aws" { region = var.region }

resource "aws_cognito_user_pool" "users" {
  name = "users"
  # "ON" (required) or "OPTIONAL": both work. In a required pool the next sign-in after a
  # recovery returns MFA_SETUP; in an optional pool it succeeds and the app should prompt.
  mfa_configuration = "ON"
  software_token_mfa_configuration { enabled = true }
  auto_verified_attributes = ["email"]
  username_attributes      = ["email"]
  # Alice@x.com and alice@x.com are one user (AWS's advice); the service reads this at start and
  # keys every name the same way.
  username_configuration {
    case_sensitive = false
  }
  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }
}

resource "aws_cognito_user_pool_client" "mfa_recovery" {
  name                = "mfa-recovery"
  user_pool_id        = aws_cognito_user_pool.users.id
  generate_secret     = true # the service sends SECRET_HASH when COGNITO_CLIENT_SECRET is set
  explicit_auth_flows = ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  # Minutes an MFA_SETUP session lives: the time a user has to enrol the new authenticator
  # (set ENROLLMENT_TTL_SECONDS=900 to match).
  auth_session_validity = 15
}

resource "aws_sesv2_email_identity" "sender" {
  email_identity = var.from_address
}

data "aws_caller_identity" "current" {}

resource "aws_iam_role" "mfa_recovery" {
  name = "mfa-recovery"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = var.eks_oidc_provider_arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = { "${var.eks_oidc_provider_url}:sub" = "system:serviceaccount:default:mfa-recovery" }
      }
    }]
  })
}

resource "aws_iam_role_policy" "mfa_recovery" {
  name = "mfa-recovery"
  role = aws_iam_role.mfa_recovery.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect = "Allow"
        Action = [
          "cognito-idp:AdminGetUser",
          "cognito-idp:AdminInitiateAuth",
          "cognito-idp:AdminDeleteSoftwareToken",
          "cognito-idp:AdminSetUserMFAPreference",
          "cognito-idp:AdminUserGlobalSignOut",
          "cognito-idp:AdminRespondToAuthChallenge",
          "cognito-idp:GetUserPoolMfaConfig",
          "cognito-idp:DescribeUserPool",
          "cognito-idp:DescribeUserPoolClient",
          "cognito-idp:AdminGetUserAuthFactors",
          "cognito-idp:AdminListDevices",
          "cognito-idp:AdminForgetDevice",
          "cognito-idp:ListUsers",
          "cognito-idp:AdminDeleteUserAttributes",
        ]
        Resource = aws_cognito_user_pool.users.arn
      },
      {
        Effect    = "Allow"
        Action    = "ses:SendEmail"
        Resource  = "arn:aws:ses:${var.region}:${data.aws_caller_identity.current.account_id}:identity/${var.from_address}"
        Condition = { StringEquals = { "ses:FromAddress" = var.from_address } }
      },
      {
        # The preflight (`mfa-recovery doctor`, and `serve` at start) checks the sender is verified.
        Effect   = "Allow"
        Action   = "ses:GetEmailIdentity"
        Resource = "arn:aws:ses:${var.region}:${data.aws_caller_identity.current.account_id}:identity/${var.from_address}"
      },
      {
        # The preflight checks that the SES account may send, out of the sandbox (an
        # account-level read: GetAccount has no resource ARN).
        Effect   = "Allow"
        Action   = "ses:GetAccount"
        Resource = "*"
      },
      {
        # Only with NOTIFY_SMS=true: notices as texts, and the preflight's SMS sandbox check.
        # Texts to phone numbers have no resource ARN.
        Effect   = "Allow"
        Action   = ["sns:Publish", "sns:GetSMSSandboxAccountStatus"]
        Resource = "*"
      },
    ]
  })
}

output "COGNITO_USER_POOL_ID" { value = aws_cognito_user_pool.users.id }
output "COGNITO_CLIENT_ID" { value = aws_cognito_user_pool_client.mfa_recovery.id }
output "COGNITO_CLIENT_SECRET" {
  value     = aws_cognito_user_pool_client.mfa_recovery.client_secret
  sensitive = true
}
output "role_arn" { value = aws_iam_role.mfa_recovery.arn }
