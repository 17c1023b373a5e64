# Was jeder Fehler eines Anwendungsfalls sagt, gleich im `detail` eines Problems und auf einer Seite.
# Wartezeiten sind ganze Minuten ($minutes), Einzahl oder Mehrzahl nach den Regeln der Sprache.

error-invalid-recovery = Dieser Code oder dieses Passwort stimmt nicht, oder der Code ist abgelaufen oder wurde durch einen neueren ersetzt. Prüfen Sie die neueste E-Mail oder fordern Sie einen neuen Code an.
error-locked = Aus diesem Netzwerk wurden zu viele falsche Codes eingegeben, deshalb gilt dieser Code hier nicht mehr. Fordern Sie später einen neuen Code an, oder bitten Sie den Support, die Sperre aufzuheben.
error-account-throttled = Zu viele Fehlversuche für dieses Konto in letzter Zeit. Versuchen Sie es in { $minutes ->
        [one] { $minutes } Minute
       *[other] { $minutes } Minuten
    } erneut.
error-address-limited = Zu viele Anfragen aus Ihrem Netzwerk. Versuchen Sie es in { $minutes ->
        [one] { $minutes } Minute
       *[other] { $minutes } Minuten
    } erneut.
error-limits-unavailable = Der Dienst kann seine Grenzen gerade nicht prüfen, deshalb wurde nichts getan. Versuchen Sie es gleich noch einmal.
error-database-unavailable = Der Dienst erreicht seine Datenbank gerade nicht, deshalb wurde nichts getan. Versuchen Sie es in ein paar Sekunden erneut.
error-busy = Wir sind gerade sehr ausgelastet. Nichts wurde geprüft, und Ihr Code gilt weiter: Versuchen Sie es in ein paar Sekunden erneut.
error-reset-in-progress = Ihr verlorener Authenticator wird gerade entfernt. Versuchen Sie es in ein paar Sekunden mit demselben Code erneut, um das Ergebnis zu sehen.
error-idp-unavailable-code-kept = Wir konnten den Anmeldedienst nicht erreichen. Ihr Code gilt weiter: Versuchen Sie es in einer Minute erneut. Falls das Entfernen schon begonnen hat, schließt der Dienst es selbst ab.
error-reset-not-applied = Der Anmeldedienst hat den verlorenen Authenticator nicht entfernt, deshalb wurde nichts geändert. Bitte wenden Sie sich an den Support; der Versuch wurde aufgezeichnet.
error-internal = Bei uns ist etwas schiefgegangen. Nichts ging verloren: Bitte versuchen Sie es erneut.
error-invalid-totp = Dieser Code passt nicht. Prüfen Sie, ob die App dieses Konto anzeigt, und geben Sie dann den aktuellen Code ein.
error-invalid-sign-in-code = Das ist nicht der Code, den wir gerade gesendet haben. Sehen Sie in die neueste SMS oder E-Mail und geben Sie deren Code ein.
error-enrollment-gone = Dieser Einrichtungsschritt ist abgelaufen oder wurde schon verwendet. Melden Sie sich an: Sie werden gebeten, Ihre Authenticator-App einzurichten.
error-enrol-link-invalid = Dieser Link ist abgelaufen oder wurde schon verwendet, oder das Passwort stimmt nicht. Wenn Sie schon eine neue Authenticator-App eingerichtet haben, ist nichts mehr zu tun.
error-idp-unavailable-enrollment-kept = Wir konnten den Anmeldedienst nicht erreichen. Ihre Einrichtung bleibt offen: Versuchen Sie es in einer Minute erneut.
error-enrollment-not-applied = Der Anmeldedienst hat den Code angenommen, die App aber nicht zu Ihrem Anmeldefaktor gemacht. Melden Sie sich an, um Ihre App einzurichten, oder wenden Sie sich an den Support; der Versuch wurde aufgezeichnet.
error-passkey-not-found = Dieser Passkey ist nicht (mehr) auf Ihrem Konto. Die Liste zeigt die vorhandenen.
error-passkey-not-removed = Der Anmeldedienst hat diesen Passkey nicht entfernt. Versuchen Sie es erneut oder entfernen Sie ihn in Ihren Kontoeinstellungen.
error-cancel-link-invalid = Dieser Link ist ungültig: Er wurde schon verwendet, oder das Entfernen wurde bereits ausgeführt oder abgebrochen. Wenn Sie keine Wiederherstellung angefragt haben, ändern Sie Ihr Passwort und wenden Sie sich an den Support.
error-user-not-found = Kein Benutzer des Pools hat diesen Benutzernamen, Alias oder diese E-Mail-Adresse.
error-several-users = { $count } Benutzer haben diese E-Mail-Adresse. Suchen Sie stattdessen nach ihrem Benutzernamen.
error-own-account = Das ist Ihr eigenes Konto. Bitten Sie eine Kollegin oder einen Kollegen: Im Support handelt niemand am eigenen Konto.
error-self-approval = Sie haben diese Wiederherstellung gestartet: Jemand anderes mit der Rolle zum Genehmigen muss sie genehmigen.
error-not-approvable = Diese Wiederherstellung ist { $status }: Es gibt nichts zu genehmigen.
error-reason-required = Ein Grund ist erforderlich: 1 bis { $max } Zeichen, etwa worum die anrufende Person gebeten hat, ohne Steuerzeichen.
error-ticket-invalid = Eine Ticketnummer hat höchstens { $max } Zeichen, ohne Steuerzeichen.
error-verification-detail-required = Beschreiben Sie, wie Sie die anrufende Person überprüft haben: 1 bis { $max } Zeichen.
error-no-verified-email = Der Benutzer hat keine bestätigte E-Mail-Adresse, deshalb kann kein Code gesendet werden. Bestätigen Sie zuerst die Adresse in Cognito.
error-nothing-to-recover = Der Benutzer hat { $missing }, deshalb gibt es nichts wiederherzustellen.
error-user-disabled = Der Benutzer ist in Cognito deaktiviert, deshalb wird kein Code gesendet. Aktivieren Sie den Benutzer zuerst, wenn die Wiederherstellung berechtigt ist.
error-email-budget-spent = Das stündliche E-Mail-Budget des Dienstes ist aufgebraucht, deshalb konnte kein Code gesendet werden, und nichts wurde eingereiht. Versuchen Sie es in { $minutes ->
        [one] { $minutes } Minute
       *[other] { $minutes } Minuten
    } erneut.
error-support-quota-spent = In den letzten 24 Stunden wurden { $started } Wiederherstellungen für diesen Benutzer gestartet{ $per-day ->
        [none] {""}
       *[other] {" "}(höchstens { $per-day })
    }.
error-recovery-not-found = Diese Wiederherstellung gibt es nicht.
error-not-cancellable = Die Wiederherstellung ist { $status } und kann nicht mehr abgebrochen werden.
error-idp-refuses-pool = Der Identitätsanbieter lässt den Dienst den Benutzerpool nicht lesen, deshalb wurde nichts eingereiht. Das ist ein Konfigurationsproblem: Sagen Sie es dem Betrieb.
error-idp-unavailable-nothing-queued = Der Identitätsanbieter war nicht erreichbar. Nichts wurde eingereiht: Versuchen Sie es gleich noch einmal.

# Der Titel jedes Problemcodes: der `title` von problem+json und die Überschrift einer Seite, die ihn zeigt.
title-invalid-request = Ungültige Anfrage
title-invalid-recovery = Ungültige Wiederherstellung
title-too-many-attempts = Zu viele Versuche
title-rate-limited = Zu viele Anfragen
title-identity-provider-unavailable = Identitätsanbieter nicht erreichbar
title-mfa-reset-failed = Authenticator nicht entfernt
title-reset-in-progress = Entfernen läuft
title-unauthorized = Nicht angemeldet
title-forbidden = Nicht erlaubt
title-user-not-found = Benutzer nicht gefunden
title-no-verified-email = Keine bestätigte E-Mail-Adresse
title-no-totp-authenticator = Kein Authenticator
title-user-disabled = Benutzer deaktiviert
title-email-budget-spent = E-Mail-Budget aufgebraucht
title-recovery-not-found = Wiederherstellung nicht gefunden
title-recovery-not-cancellable = Wiederherstellung nicht abbrechbar
title-invalid-cancel-token = Ungültiger Abbruchlink
title-invalid-totp = Ungültiger Code
title-invalid-sign-in-code = Ungültiger Code
title-invalid-enrollment = Ungültige Einrichtung
title-enrollment-failed = Authenticator nicht eingerichtet
title-passkey-not-found = Passkey nicht gefunden
title-passkey-not-removed = Passkey nicht entfernt
title-payload-too-large = Anfrage zu groß
title-unsupported-media-type = Nicht unterstütztes Format
title-not-found = Nicht gefunden
title-method-not-allowed = Methode nicht erlaubt
title-service-unavailable = Dienst nicht verfügbar
title-not-ready = Nicht bereit
title-internal-error = Interner Fehler
title-sign-in-failed = Anmeldung fehlgeschlagen
title-several-users = Mehrere Benutzer
title-own-account = Ihr eigenes Konto
title-self-approval = Ihre eigene Anfrage
title-recovery-not-approvable = Nichts zu genehmigen
