//! Every word the pages show, read once per page from the words of its language
//! (`src/words/locales/<language>/pages.ftl`, each field's message is `page-` and its name). The
//! words of a use case's failures are its presentation's (`routes::messages`).

use std::sync::LazyLock;

use crate::words::Words;

/// The words of the pages' language: English, the one language so far.
pub fn words() -> Words {
    Words::english()
}

/// The pages' words in English, read once.
pub static EN: LazyLock<Text> = LazyLock::new(|| Text::new(&words()));

#[derive(Debug)]
pub struct Text {
    /// The language's tag, for `<html lang>`.
    pub lang: String,
    pub service: String,
    pub start_title: String,
    pub start_intro: String,
    pub username_label: String,
    pub username_hint: String,
    pub start_button: String,
    pub check_title: String,
    pub check_intro: String,
    pub have_code_title: String,
    pub have_code_intro: String,
    pub have_code_link: String,
    pub code_label: String,
    pub code_hint: String,
    pub password_label: String,
    pub confirm_button: String,
    pub start_again: String,
    pub enrol_title: String,
    pub enrol_intro: String,
    pub qr_label: String,
    pub manual_key: String,
    pub open_in_app: String,
    pub expires: String,
    pub totp_label: String,
    pub totp_hint: String,
    pub enrol_button: String,
    pub resume_title: String,
    pub resume_intro: String,
    pub resume_button: String,
    pub link_title: String,
    pub link_intro: String,
    pub link_button: String,
    pub enrolled_title: String,
    pub enrolled_body: String,
    pub removed_title: String,
    pub removed_body: String,
    pub scheduled_title: String,
    pub scheduled_body: String,
    pub sign_in: String,
    pub problem_title: String,
    pub cancel_title: String,
    pub cancel_intro: String,
    pub cancel_button: String,
    pub cancelled_title: String,
    pub cancelled_body: String,
    pub error_prefix: String,
    // The staff console.
    pub staff_service: String,
    pub staff_title: String,
    pub staff_signed_in_as: String,
    pub staff_roles: String,
    pub staff_role_support: String,
    pub staff_role_approver: String,
    pub staff_role_auditor: String,
    pub staff_sign_out: String,
    pub staff_signed_out_title: String,
    pub staff_signed_out_body: String,
    pub staff_sign_in_again: String,
    pub staff_problem_title: String,
    // Errors, in words.
    pub username_invalid: String,
    pub code_invalid: String,
    pub password_missing: String,
    pub totp_malformed: String,
    pub session_expired: String,
    pub not_found: String,
}

impl Text {
    /// The pages' words in the language of `words`.
    pub fn new(words: &Words) -> Self {
        Self {
            lang: words.lang(),
            service: words.get("page-service"),
            start_title: words.get("page-start-title"),
            start_intro: words.get("page-start-intro"),
            username_label: words.get("page-username-label"),
            username_hint: words.get("page-username-hint"),
            start_button: words.get("page-start-button"),
            check_title: words.get("page-check-title"),
            check_intro: words.get("page-check-intro"),
            have_code_title: words.get("page-have-code-title"),
            have_code_intro: words.get("page-have-code-intro"),
            have_code_link: words.get("page-have-code-link"),
            code_label: words.get("page-code-label"),
            code_hint: words.get("page-code-hint"),
            password_label: words.get("page-password-label"),
            confirm_button: words.get("page-confirm-button"),
            start_again: words.get("page-start-again"),
            enrol_title: words.get("page-enrol-title"),
            enrol_intro: words.get("page-enrol-intro"),
            qr_label: words.get("page-qr-label"),
            manual_key: words.get("page-manual-key"),
            open_in_app: words.get("page-open-in-app"),
            expires: words.get("page-expires"),
            totp_label: words.get("page-totp-label"),
            totp_hint: words.get("page-totp-hint"),
            enrol_button: words.get("page-enrol-button"),
            resume_title: words.get("page-resume-title"),
            resume_intro: words.get("page-resume-intro"),
            resume_button: words.get("page-resume-button"),
            link_title: words.get("page-link-title"),
            link_intro: words.get("page-link-intro"),
            link_button: words.get("page-link-button"),
            enrolled_title: words.get("page-enrolled-title"),
            enrolled_body: words.get("page-enrolled-body"),
            removed_title: words.get("page-removed-title"),
            removed_body: words.get("page-removed-body"),
            scheduled_title: words.get("page-scheduled-title"),
            scheduled_body: words.get("page-scheduled-body"),
            sign_in: words.get("page-sign-in"),
            problem_title: words.get("page-problem-title"),
            cancel_title: words.get("page-cancel-title"),
            cancel_intro: words.get("page-cancel-intro"),
            cancel_button: words.get("page-cancel-button"),
            cancelled_title: words.get("page-cancelled-title"),
            cancelled_body: words.get("page-cancelled-body"),
            error_prefix: words.get("page-error-prefix"),
            staff_service: words.get("page-staff-service"),
            staff_title: words.get("page-staff-title"),
            staff_signed_in_as: words.get("page-staff-signed-in-as"),
            staff_roles: words.get("page-staff-roles"),
            staff_role_support: words.get("page-staff-role-support"),
            staff_role_approver: words.get("page-staff-role-approver"),
            staff_role_auditor: words.get("page-staff-role-auditor"),
            staff_sign_out: words.get("page-staff-sign-out"),
            staff_signed_out_title: words.get("page-staff-signed-out-title"),
            staff_signed_out_body: words.get("page-staff-signed-out-body"),
            staff_sign_in_again: words.get("page-staff-sign-in-again"),
            staff_problem_title: words.get("page-staff-problem-title"),
            username_invalid: words.get("page-username-invalid"),
            code_invalid: words.get("page-code-invalid"),
            password_missing: words.get("page-password-missing"),
            totp_malformed: words.get("page-totp-malformed"),
            session_expired: words.get("page-session-expired"),
            not_found: words.get("page-not-found"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_of_the_pages_is_in_the_language_files() {
        let text = format!("{:?}", *EN);
        assert!(
            !text.contains("[page-"),
            "a page message is missing: {text}"
        );
        assert_eq!(EN.lang, "en");
        assert_eq!(EN.start_button, "Email me a code");
    }
}
