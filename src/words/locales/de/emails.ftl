# Die E-Mails. Jeder Absatz ist eine Nachricht; die Vorlage einer E-Mail enthält nur ihr Layout.

# Wie Zeiten in E-Mails geschrieben werden (ein chrono-strftime-Muster; Zeiten in UTC).
time-format = %d.%m.%Y %H:%M:%S UTC

email-when = Wann:
email-from-address = Von der Adresse:
email-started-by = Gestartet von:
email-started-by-user = Ihnen, auf der Seite zur Kontowiederherstellung
email-started-by-staff = dem Support (Mitarbeiter { $agent })
email-unknown-address = unbekannt
# Before how to reach support, at the end of every email (SUPPORT_CONTACT).
email-help = Brauchen Sie Hilfe?

## Der Wiederherstellungscode.
code-email-subject = Ihr Code zur Kontowiederherstellung
code-email-ask = Jemand hat angefragt, die Authenticator-App aus Ihrem Konto zu entfernen, weil das Handy mit der App verloren ging. Wenn Sie das waren, geben Sie diesen Wiederherstellungscode{ $password ->
        [yes] {" "}zusammen mit Ihrem Passwort
       *[no] {""}
    } ein
code-email-ask-at = , und zwar unter
code-email-link = Oder öffnen Sie diesen Link, statt den Code einzutippen{ $password ->
        [yes] {" "}(nach Ihrem Passwort werden Sie trotzdem gefragt)
       *[no] {""}
    }. Er gilt so lange wie der Code, auch während jemand anderes Codes für Ihr Konto ausprobiert:
code-email-expires = Der Code gilt einmal und läuft in { $minutes ->
        [one] { $minutes } Minute
       *[other] { $minutes } Minuten
    } ab. Sobald er angenommen ist, richten Sie gleich eine neue Authenticator-App ein.
code-email-then-required = Wenn Sie vorher aufhören, verlangt Ihre nächste Anmeldung, dass Sie eine einrichten.
code-email-then-optional = Wenn Sie vorher aufhören, schützt allein Ihr Passwort Ihr Konto, bis Sie in Ihren Kontoeinstellungen eine hinzufügen.
code-email-ignore = Wenn Sie das nicht angefragt haben, ignorieren Sie diese E-Mail: Ohne diesen Code{ $password ->
        [yes] {" "}und Ihr Passwort
       *[no] {""}
    } ändert sich nichts. Niemand aus unserem Team wird Sie je danach fragen.

## Der Authenticator wurde entfernt.
reset-email-subject = Ihre Authenticator-App wurde aus Ihrem Konto entfernt
reset-email-title = Ihre Authenticator-App wurde entfernt
reset-email-removed = Die Authenticator-App wurde aus Ihrem Konto entfernt.
reset-email-enrol = Richten Sie jetzt die Authenticator-App auf Ihrem neuen Handy ein: Dieser Link gilt einmal, 24 Stunden lang, und fragt nach Ihrem Passwort.
reset-email-signed-out = Alle angemeldeten Geräte wurden abgemeldet.
reset-email-then-required = Wenn Sie das Einrichten einer neuen Authenticator-App nicht abgeschlossen haben, verlangt Ihre nächste Anmeldung es.
reset-email-then-optional = Wenn Sie das Einrichten einer neuen Authenticator-App nicht abgeschlossen haben, schützt allein Ihr Passwort Ihr Konto: Fügen Sie jetzt in Ihren Kontoeinstellungen eine hinzu.
reset-email-then-unknown = Wenn Sie das Einrichten einer neuen Authenticator-App nicht abgeschlossen haben, richten Sie bei der nächsten Anmeldung eine ein.
reset-email-sms-removed = Anmeldecodes per SMS wurden ebenfalls abgeschaltet: Sie gingen an die Nummer des verlorenen Handys. Hinterlegen Sie Ihre neue Telefonnummer in Ihren Kontoeinstellungen, um sie wieder zu nutzen.
reset-email-email-mfa-remains = Anmeldecodes per E-Mail funktionieren weiter: Sie kommen an diese Adresse.
reset-email-passkey-remains = Für Ihr Konto ist noch ein Passkey registriert. Wenn er auf dem verlorenen Handy war, entfernen Sie ihn in Ihren Kontoeinstellungen: Die Wiederherstellung kann keine Passkeys entfernen.
reset-email-not-you = Wenn Sie das nicht waren, kennt womöglich jemand Ihr Passwort und Ihre E-Mail: Ändern Sie jetzt Ihr Passwort und wenden Sie sich an den Support.

## Das Entfernen wartet und kann abgebrochen werden.
scheduled-email-subject = Ihre Authenticator-App wird entfernt: Brechen Sie ab, wenn Sie das nicht waren
scheduled-email-title = Ihre Authenticator-App wird entfernt
scheduled-email-confirmed = Jemand hat eine Anfrage bestätigt, die Authenticator-App aus Ihrem Konto zu entfernen.
scheduled-email-when = Der Authenticator wird am { $at } entfernt. Bis dahin ändert sich nichts.
scheduled-email-stop = Wenn Sie das nicht waren, stoppen Sie es jetzt mit diesem einmaligen Link und ändern Sie dann Ihr Passwort und das Passwort dieses E-Mail-Kontos:
scheduled-email-then-required = Wenn Sie es waren, ist bis dahin nichts zu tun. Danach verlangt Ihre nächste Anmeldung, dass Sie eine neue Authenticator-App einrichten.
scheduled-email-then-optional = Wenn Sie es waren, ist bis dahin nichts zu tun. Richten Sie danach in Ihren Kontoeinstellungen eine neue Authenticator-App ein: Bis dahin schützt allein Ihr Passwort Ihr Konto.
scheduled-email-then-unknown = Wenn Sie es waren, ist bis dahin nichts zu tun. Richten Sie danach eine neue Authenticator-App ein.

## Eine Wiederherstellung wurde nach falschen Codes gesperrt.
locked-email-subject = Eine Wiederherstellung Ihres Kontos wurde nach falschen Codes gesperrt
locked-email-title = Eine Wiederherstellung Ihres Kontos wurde gesperrt
locked-email-what = Jemand wollte die Authenticator-App aus Ihrem Konto entfernen und hat { $attempts ->
        [one] einmal
       *[other] { $attempts }-mal
    } einen falschen Wiederherstellungscode eingegeben, deshalb ist diese Wiederherstellung jetzt gesperrt. Nichts wurde geändert.
locked-email-then = Wenn Sie das waren, fordern Sie später einen neuen Code an. Wenn nicht, kennt jemand Ihren Benutzernamen und versucht vielleicht, Ihr Konto zu übernehmen: Ändern Sie Ihr Passwort und bewahren Sie Ihre Authenticator-App sicher auf.

## Jemand rät Codes für das Konto von vielen Adressen aus (höchstens einmal am Tag).
guessing-email-subject = Jemand probiert Wiederherstellungscodes für Ihr Konto aus
guessing-email-title = Jemand probiert Wiederherstellungscodes für Ihr Konto aus
guessing-email-what = In den letzten 24 Stunden wurden für Ihr Konto { $failures ->
        [one] einmal
       *[other] { $failures }-mal
    } falsche Wiederherstellungscodes eingegeben. Nichts wurde geändert, und vorerst werden Versuche von Adressen abgelehnt, die keinen Code angefordert haben.
guessing-email-owner = Wenn Sie Ihr Konto selbst wiederherstellen, bestätigen Sie aus dem Netzwerk, aus dem Sie Ihren Code angefordert haben, oder nutzen Sie den Link in Ihrer neuesten Wiederherstellungs-E-Mail: Raten von anderswo hält beides nicht auf. Oder wenden Sie sich an Ihren Support.
guessing-email-then = Wenn Sie es nicht sind, kennt jemand Ihren Benutzernamen: Halten Sie Ihr Passwort und Ihr E-Mail-Konto sicher.

## After the new authenticator: the passkeys the owner removed, and those left.
passkeys-email-subject = Ihre Passkeys nach der Kontowiederherstellung
passkeys-email-intro = Nach der Wiederherstellung Ihres Kontos haben Sie eine neue Authenticator-App eingerichtet und die Passkeys Ihres Kontos angesehen.
passkeys-email-removed = Sie haben { $count ->
        [one] diesen Passkey
       *[other] diese { $count } Passkeys
    } entfernt:
passkeys-email-remaining = { $count ->
        [one] Mit diesem Passkey kann man sich weiterhin bei Ihrem Konto anmelden
       *[other] Mit diesen { $count } Passkeys kann man sich weiterhin bei Ihrem Konto anmelden
    }:
passkeys-email-remaining-then = Falls einer davon auf dem verlorenen Telefon war, entfernen Sie ihn in Ihren Kontoeinstellungen: Wer das Telefon hat und entsperren kann, kann sich damit anmelden.
passkeys-email-passkey = { $name }, hinzugefügt am { $added }
passkeys-email-none-left = Auf Ihrem Konto ist kein Passkey mehr.
passkeys-email-not-you = Falls Sie das nicht waren, wenden Sie sich sofort an den Support und ändern Sie Ihr Passwort.
