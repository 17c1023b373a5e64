# Die Texte der Wiederherstellungsseiten und der Abbruchseite.

# Der Name der Sprache in ihr selbst, in der Sprachauswahl.
language-name = Deutsch
page-languages-label = Sprache
page-service = Kontowiederherstellung
page-start-title = Handy mit der Authenticator-App verloren?
page-start-intro = Geben Sie Ihren Benutzernamen ein. Wenn Ihr Konto wiederhergestellt werden kann, senden wir Ihnen per E-Mail einen Einmalcode, mit dem Sie beweisen, dass Sie es sind.
page-username-label = Benutzername oder E-Mail-Adresse
page-username-hint = Der Name, mit dem Sie sich anmelden.
page-start-button = Code per E-Mail senden
page-check-title = Sehen Sie in Ihr E-Mail-Postfach
page-check-intro = Wenn das Konto wiederhergestellt werden kann, ist eine E-Mail mit einem 8-stelligen Code an die hinterlegte Adresse unterwegs. Das kann eine Minute dauern. Der Code gilt einmal und läuft bald ab.
page-have-code-title = Wiederherstellungscode eingeben
page-have-code-intro = Geben Sie Ihren Benutzernamen, den 8-stelligen Code aus der E-Mail und Ihr Passwort ein.
page-have-code-link = Sie haben schon einen Code? Hier eingeben
page-code-label = Code aus der E-Mail
page-code-hint = 8 Ziffern, zum Beispiel 1234 5678.
page-password-label = Ihr Passwort
page-confirm-button = Verlorenen Authenticator entfernen
page-start-again = Neu beginnen
page-enrol-title = Neuen Authenticator einrichten
page-enrol-intro = Der Authenticator auf Ihrem verlorenen Handy funktioniert nicht mehr, und alle Geräte wurden abgemeldet. Fügen Sie Ihr Konto jetzt einer Authenticator-App auf Ihrem neuen Handy hinzu.
page-qr-label = QR-Code mit dem Schlüssel Ihres neuen Authenticators
page-manual-key = Oder geben Sie diesen Schlüssel in der App ein:
page-open-in-app = Auf diesem Handy? In der Authenticator-App öffnen
page-expires = Abschließen bis
page-totp-label = 6-stelliger Code aus der App
page-totp-hint = Die App zeigt alle 30 Sekunden einen neuen Code.
page-enrol-button = Abschließen
page-sign-in-code-title = Geben Sie den Code ein, den wir gerade gesendet haben
page-sign-in-code-intro-sms = Ihr Konto meldet sich auch mit Codes per SMS an, deshalb haben wir gerade einen an { $destination } gesendet. Geben Sie ihn ein, um mit Ihrem neuen Authenticator weiterzumachen.
page-sign-in-code-intro-email = Ihr Konto meldet sich auch mit Codes per E-Mail an, deshalb haben wir gerade einen an { $destination } gesendet. Geben Sie ihn ein, um mit Ihrem neuen Authenticator weiterzumachen.
page-sign-in-code-label = Code aus der SMS oder E-Mail
page-sign-in-code-button = Weiter
page-sign-in-code-malformed = Geben Sie die 6 bis 8 Ziffern des Codes ein, den wir gesendet haben.
page-resume-title = Neuen Authenticator einrichten
page-resume-intro = Ihr verlorener Authenticator wurde entfernt. Geben Sie Ihr Passwort ein, um Ihr Konto einer Authenticator-App auf Ihrem neuen Handy hinzuzufügen.
page-resume-button = Weiter
page-link-title = Verlorene Authenticator-App entfernen
page-link-intro = Sie haben den Link aus Ihrer Wiederherstellungs-E-Mail geöffnet. Bestätigen Sie, um die Authenticator-App auf Ihrem verlorenen Handy aus Ihrem Konto zu entfernen; gleich danach richten Sie eine neue ein.
page-link-button = Entfernen und weiter
page-enrolled-title = Alles erledigt
page-enrolled-body = Ihr neuer Authenticator ist bereit. Geben Sie bei der Anmeldung einen Code daraus ein.
page-removed-title = Ihr verlorener Authenticator wurde entfernt
page-removed-body = Alle Geräte wurden abgemeldet. Richten Sie bei der nächsten Anmeldung eine Authenticator-App auf Ihrem neuen Handy ein.
page-scheduled-title = Ihr Authenticator wird bald entfernt
page-scheduled-body = Zu Ihrer Sicherheit gibt es eine Wartezeit. Wir haben Ihnen per E-Mail geschrieben, wann sie endet und wie Sie den Vorgang stoppen, falls Sie es nicht waren.
page-sign-in = Zur Anmeldung
page-problem-title = Etwas braucht Ihre Aufmerksamkeit
page-cancel-title = Entfernen Ihres Authenticators stoppen?
page-cancel-intro = Jemand hat eine Anfrage bestätigt, die Authenticator-App aus Ihrem Konto zu entfernen. Wenn Sie es nicht waren, stoppen Sie es hier.
page-cancel-button = Entfernen meines Authenticators stoppen
page-cancelled-title = Gestoppt
page-cancelled-body = Der Authenticator wird nicht entfernt. Wenn Sie das nicht angefragt haben, ändern Sie jetzt Ihr Passwort: Jemand, der es kennt, wollte Ihren Authenticator entfernen.
page-error-prefix = Fehler:
page-username-invalid = Geben Sie den Benutzernamen oder die E-Mail-Adresse ein, mit der Sie sich anmelden (bis zu 128 Zeichen).
page-code-invalid = Geben Sie die 8 Ziffern aus der E-Mail ein, zum Beispiel 1234 5678.
page-password-missing = Geben Sie Ihr Passwort ein.
page-totp-malformed = Geben Sie die 6 Ziffern ein, die Ihre Authenticator-App anzeigt.
page-session-expired = Dieses Formular ist abgelaufen, oder Cookies sind blockiert. Beginnen Sie neu.
page-not-found = Diese Seite gibt es nicht.
# Before how to reach support, on pages that show a problem (SUPPORT_CONTACT).
page-help = Brauchen Sie Hilfe?

## After the new authenticator: the user's passkeys.
page-passkeys-title = Passkeys auf Ihrem Konto
page-passkeys-intro = Mit einem Passkey meldet man sich ohne die Authenticator-App an. Entfernen Sie jeden Passkey, der auf dem verlorenen Telefon war; behalten Sie die auf Geräten, die Sie noch haben.
page-passkey-added = hinzugefügt am { $added }
page-passkey-remove = { $name } entfernen
page-passkey-remove-button = Entfernen
page-passkey-removed = Passkey entfernt.
page-passkeys-until = Sie können Passkeys hier entfernen bis
page-passkeys-done = Fertig
page-passkeys-finished = Sie sind überall abgemeldet. { $count ->
        [0] Auf Ihrem Konto ist kein Passkey mehr.
        [one] Ein Passkey bleibt auf Ihrem Konto; wir haben Ihnen seinen Namen gemailt.
       *[other] { $count } Passkeys bleiben auf Ihrem Konto; wir haben Ihnen ihre Namen gemailt.
    }
