//! Every word the pages show, read once per page from the words of its language
//! (`src/words/locales/<language>/pages.ftl`, each field's message is `page-` and its name). The
//! words of a use case's failures are its presentation's (`routes::messages`).

use std::sync::LazyLock;

use actix_web::HttpRequest;

use crate::words::Words;

/// The words of the staff console, which is in English only.
pub fn words() -> Words {
    Words::english()
}

/// The staff console's words: the English of the pages' words.
pub static EN: LazyLock<&'static Text> = LazyLock::new(|| text(&words()));

/// The pages' words in every shipped language, read once, English first.
static TEXTS: LazyLock<Vec<Text>> =
    LazyLock::new(|| crate::words::shipped().iter().map(Text::new).collect());

/// The pages' words in the language of `words`.
pub fn text(words: &Words) -> &'static Text {
    TEXTS
        .iter()
        .find(|t| t.words == *words)
        .unwrap_or(&TEXTS[0])
}

/// The pages' words for a request: its language (`routes::language`).
pub fn for_request(req: &HttpRequest) -> &'static Text {
    text(&crate::routes::language::of(req))
}

/// The languages a person can switch the pages to, each named in itself.
pub fn languages() -> impl Iterator<Item = &'static Text> {
    TEXTS.iter()
}

/// The same page in one language, for the switch between languages.
pub struct LanguageLink {
    pub href: String,
    pub lang: String,
    /// The language's name in itself.
    pub name: String,
    /// The page is in this language already.
    pub current: bool,
}

/// The switch between languages of the page at `here` (its path, and its query when it has
/// one), shown in `current`.
pub fn switch(current: &Text, here: &str) -> Vec<LanguageLink> {
    let separator = if here.contains('?') { '&' } else { '?' };
    languages()
        .map(|t| LanguageLink {
            href: format!("{here}{separator}lang={}", t.lang),
            lang: t.lang.clone(),
            name: t.language_name.clone(),
            current: t.lang == current.lang,
        })
        .collect()
}

#[derive(Debug)]
pub struct Text {
    /// The language's tag, for `<html lang>`.
    pub lang: String,
    /// The language itself, for the use cases' words (failures) on its pages.
    pub words: Words,
    /// The language's name in itself (`Deutsch`), for the switch between languages.
    pub language_name: String,
    /// What the switch between languages is called, for screen readers.
    pub languages_label: String,
    /// Before how to reach support (`SUPPORT_CONTACT`), where a page shows a problem.
    pub help: String,
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
    pub sign_in_code_title: String,
    pub sign_in_code_label: String,
    pub sign_in_code_button: String,
    pub sign_in_code_malformed: String,
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
    pub staff_refused_title: String,
    pub staff_session_ended: String,
    pub staff_not_in_group: String,
    pub staff_back: String,
    pub staff_find_title: String,
    pub staff_find_label: String,
    pub staff_find_hint: String,
    pub staff_find_button: String,
    pub staff_query_invalid: String,
    pub staff_user_title: String,
    pub staff_username: String,
    pub staff_email: String,
    pub staff_phone: String,
    pub staff_none_verified: String,
    pub staff_factors: String,
    pub staff_factor_totp: String,
    pub staff_factor_sms: String,
    pub staff_factor_email: String,
    pub staff_factor_password: String,
    pub staff_factor_sms_sign_in: String,
    pub staff_factor_email_sign_in: String,
    pub staff_factor_passkey: String,
    pub staff_remembered_devices: String,
    pub staff_disabled: String,
    pub staff_own_account: String,
    pub staff_cannot_start: String,
    pub staff_start_title: String,
    pub staff_start_intro: String,
    pub staff_reason_label: String,
    pub staff_reason_hint: String,
    pub staff_ticket_label: String,
    pub staff_verification_label: String,
    pub staff_verification_call_back: String,
    pub staff_verification_manager: String,
    pub staff_verification_in_person: String,
    pub staff_verification_other: String,
    pub staff_verification_none: String,
    pub staff_verification_detail_label: String,
    pub staff_verification_another: String,
    pub staff_start_button: String,
    pub staff_unlock_intro: String,
    pub staff_unlock_button: String,
    pub staff_recoveries_title: String,
    pub staff_no_recoveries: String,
    pub staff_recovery_title: String,
    pub staff_status: String,
    pub staff_started_by: String,
    pub staff_started_at: String,
    pub staff_expires_at: String,
    pub staff_finished_at: String,
    pub staff_cancel_button: String,
    pub staff_timeline: String,
    pub staff_approvals_title: String,
    pub staff_approvals_intro: String,
    pub staff_approvals_none: String,
    pub staff_approvals_mine: String,
    pub staff_approve_button: String,
    pub staff_lapses_at: String,
    pub staff_approved_by: String,
    pub staff_open_approvals: String,
    pub staff_audit_title: String,
    pub staff_chain_title: String,
    pub staff_checkpoint_title: String,
    pub staff_checkpoint_hint: String,
    pub staff_chain_verify_full: String,
    pub staff_filter_title: String,
    pub staff_action_label: String,
    pub staff_action_any: String,
    pub staff_recovery_id_label: String,
    pub staff_since_label: String,
    pub staff_until_label: String,
    pub staff_time_hint: String,
    pub staff_filter_button: String,
    pub staff_events_title: String,
    pub staff_no_events: String,
    pub staff_query_malformed: String,
    pub staff_by: String,
    pub staff_next_page: String,
    pub staff_download_title: String,
    pub staff_download_hint: String,
    pub staff_download_csv: String,
    pub staff_download_jsonl: String,
    pub staff_open_audit: String,
    pub staff_open_keys: String,
    pub staff_keys_title: String,
    pub staff_keys_intro: String,
    pub staff_keys_none: String,
    pub staff_keys_cut: String,
    pub staff_key_id: String,
    pub staff_key_role: String,
    pub staff_key_created: String,
    pub staff_key_created_by: String,
    pub staff_key_purpose: String,
    pub staff_key_state: String,
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
            words: words.clone(),
            language_name: words.get("language-name"),
            languages_label: words.get("page-languages-label"),
            help: words.get("page-help"),
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
            sign_in_code_title: words.get("page-sign-in-code-title"),
            sign_in_code_label: words.get("page-sign-in-code-label"),
            sign_in_code_button: words.get("page-sign-in-code-button"),
            sign_in_code_malformed: words.get("page-sign-in-code-malformed"),
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
            staff_refused_title: words.get("page-staff-refused-title"),
            staff_session_ended: words.get("page-staff-session-ended"),
            staff_not_in_group: words.get("page-staff-not-in-group"),
            staff_back: words.get("page-staff-back"),
            staff_find_title: words.get("page-staff-find-title"),
            staff_find_label: words.get("page-staff-find-label"),
            staff_find_hint: words.get("page-staff-find-hint"),
            staff_find_button: words.get("page-staff-find-button"),
            staff_query_invalid: words.get("page-staff-query-invalid"),
            staff_user_title: words.get("page-staff-user-title"),
            staff_username: words.get("page-staff-username"),
            staff_email: words.get("page-staff-email"),
            staff_phone: words.get("page-staff-phone"),
            staff_none_verified: words.get("page-staff-none-verified"),
            staff_factors: words.get("page-staff-factors"),
            staff_factor_totp: words.get("page-staff-factor-totp"),
            staff_factor_sms: words.get("page-staff-factor-sms"),
            staff_factor_email: words.get("page-staff-factor-email"),
            staff_factor_password: words.get("page-staff-factor-password"),
            staff_factor_sms_sign_in: words.get("page-staff-factor-sms-sign-in"),
            staff_factor_email_sign_in: words.get("page-staff-factor-email-sign-in"),
            staff_factor_passkey: words.get("page-staff-factor-passkey"),
            staff_remembered_devices: words.get("page-staff-remembered-devices"),
            staff_disabled: words.get("page-staff-disabled"),
            staff_own_account: words.get("page-staff-own-account"),
            staff_cannot_start: words.get("page-staff-cannot-start"),
            staff_start_title: words.get("page-staff-start-title"),
            staff_start_intro: words.get("page-staff-start-intro"),
            staff_reason_label: words.get("page-staff-reason-label"),
            staff_reason_hint: words.get("page-staff-reason-hint"),
            staff_ticket_label: words.get("page-staff-ticket-label"),
            staff_verification_label: words.get("page-staff-verification-label"),
            staff_verification_call_back: words.get("page-staff-verification-call-back"),
            staff_verification_manager: words.get("page-staff-verification-manager"),
            staff_verification_in_person: words.get("page-staff-verification-in-person"),
            staff_verification_other: words.get("page-staff-verification-other"),
            staff_verification_none: words.get("page-staff-verification-none"),
            staff_verification_detail_label: words.get("page-staff-verification-detail-label"),
            staff_verification_another: words.get("page-staff-verification-another"),
            staff_start_button: words.get("page-staff-start-button"),
            staff_unlock_intro: words.get("page-staff-unlock-intro"),
            staff_unlock_button: words.get("page-staff-unlock-button"),
            staff_recoveries_title: words.get("page-staff-recoveries-title"),
            staff_no_recoveries: words.get("page-staff-no-recoveries"),
            staff_recovery_title: words.get("page-staff-recovery-title"),
            staff_status: words.get("page-staff-status"),
            staff_started_by: words.get("page-staff-started-by"),
            staff_started_at: words.get("page-staff-started-at"),
            staff_expires_at: words.get("page-staff-expires-at"),
            staff_finished_at: words.get("page-staff-finished-at"),
            staff_cancel_button: words.get("page-staff-cancel-button"),
            staff_timeline: words.get("page-staff-timeline"),
            staff_approvals_title: words.get("page-staff-approvals-title"),
            staff_approvals_intro: words.get("page-staff-approvals-intro"),
            staff_approvals_none: words.get("page-staff-approvals-none"),
            staff_approvals_mine: words.get("page-staff-approvals-mine"),
            staff_approve_button: words.get("page-staff-approve-button"),
            staff_lapses_at: words.get("page-staff-lapses-at"),
            staff_approved_by: words.get("page-staff-approved-by"),
            staff_open_approvals: words.get("page-staff-open-approvals"),
            staff_audit_title: words.get("page-staff-audit-title"),
            staff_chain_title: words.get("page-staff-chain-title"),
            staff_checkpoint_title: words.get("page-staff-checkpoint-title"),
            staff_checkpoint_hint: words.get("page-staff-checkpoint-hint"),
            staff_chain_verify_full: words.get("page-staff-chain-verify-full"),
            staff_filter_title: words.get("page-staff-filter-title"),
            staff_action_label: words.get("page-staff-action-label"),
            staff_action_any: words.get("page-staff-action-any"),
            staff_recovery_id_label: words.get("page-staff-recovery-id-label"),
            staff_since_label: words.get("page-staff-since-label"),
            staff_until_label: words.get("page-staff-until-label"),
            staff_time_hint: words.get("page-staff-time-hint"),
            staff_filter_button: words.get("page-staff-filter-button"),
            staff_events_title: words.get("page-staff-events-title"),
            staff_no_events: words.get("page-staff-no-events"),
            staff_query_malformed: words.get("page-staff-query-malformed"),
            staff_by: words.get("page-staff-by"),
            staff_next_page: words.get("page-staff-next-page"),
            staff_download_title: words.get("page-staff-download-title"),
            staff_download_hint: words.get("page-staff-download-hint"),
            staff_download_csv: words.get("page-staff-download-csv"),
            staff_download_jsonl: words.get("page-staff-download-jsonl"),
            staff_open_audit: words.get("page-staff-open-audit"),
            staff_open_keys: words.get("page-staff-open-keys"),
            staff_keys_title: words.get("page-staff-keys-title"),
            staff_keys_intro: words.get("page-staff-keys-intro"),
            staff_keys_none: words.get("page-staff-keys-none"),
            staff_keys_cut: words.get("page-staff-keys-cut"),
            staff_key_id: words.get("page-staff-key-id"),
            staff_key_role: words.get("page-staff-key-role"),
            staff_key_created: words.get("page-staff-key-created"),
            staff_key_created_by: words.get("page-staff-key-created-by"),
            staff_key_purpose: words.get("page-staff-key-purpose"),
            staff_key_state: words.get("page-staff-key-state"),
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
