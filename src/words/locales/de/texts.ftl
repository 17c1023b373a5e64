# Die SMS zu den Hinweisen: kein Code und kein Link. $name ist der Name des Dienstes.

text-reset = { $name }: Die Authenticator-App wurde nach einer Wiederherstellung aus Ihrem Konto entfernt. Wenn Sie das nicht waren, lesen Sie unsere E-Mail und wenden Sie sich sofort an den Support.
text-scheduled = { $name }: Eine Wiederherstellung Ihres Kontos wird dessen Authenticator-App entfernen. Wenn Sie das nicht waren, lesen Sie jetzt unsere E-Mail, um es zu stoppen.
text-locked = { $name }: Eine Wiederherstellung Ihres Kontos wurde nach falschen Codes gesperrt. Wenn Sie das nicht waren, lesen Sie unsere E-Mail.
