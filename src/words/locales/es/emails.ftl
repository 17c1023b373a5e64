# Los correos. Cada párrafo es un mensaje; la plantilla de un correo solo contiene su diseño.

# Cómo se escriben las horas en los correos (un patrón strftime de chrono; horas en UTC).
time-format = %d/%m/%Y %H:%M:%S UTC

email-when = Cuándo:
email-from-address = Desde la dirección:
email-started-by = Iniciado por:
email-started-by-user = usted, en la página de recuperación de la cuenta
email-started-by-staff = el equipo de soporte (agente { $agent })
email-unknown-address = desconocida
# Before how to reach support, at the end of every email (SUPPORT_CONTACT).
email-help = ¿Necesita ayuda?

## El código de recuperación.
code-email-subject = Su código de recuperación de la cuenta
code-email-ask = Alguien pidió quitar la aplicación de autenticación de su cuenta porque se perdió el teléfono que la tenía. Si fue usted, introduzca este código de recuperación{ $password ->
        [yes] {" "}junto con su contraseña
       *[no] {""}
    }
code-email-ask-at = {" "}en
code-email-link = O abra este enlace en lugar de escribir el código{ $password ->
        [yes] {" "}(se le seguirá pidiendo su contraseña)
       *[no] {""}
    }. Sirve mientras sirva el código, incluso si otra persona está probando códigos para su cuenta:
code-email-expires = El código sirve una sola vez y caduca en { $minutes ->
        [one] { $minutes } minuto
       *[other] { $minutes } minutos
    }. En cuanto se acepte, configurará una nueva aplicación de autenticación en ese momento.
code-email-then-required = Si se detiene antes, su próximo inicio de sesión le pedirá que configure una.
code-email-then-optional = Si se detiene antes, su cuenta queda protegida solo por su contraseña hasta que añada una en la configuración de su cuenta.
code-email-ignore = Si no lo pidió usted, ignore este correo: nada cambia sin este código{ $password ->
        [yes] {" "}y su contraseña
       *[no] {""}
    }. Nadie de nuestro equipo se lo pedirá nunca.

## Se quitó la aplicación de autenticación.
reset-email-subject = Se quitó la aplicación de autenticación de su cuenta
reset-email-title = Se quitó su aplicación de autenticación
reset-email-removed = Se quitó la aplicación de autenticación de su cuenta.
reset-email-enrol = Configure ahora la aplicación de autenticación en su teléfono nuevo: este enlace sirve una vez, durante 24 horas, y le pide su contraseña.
reset-email-signed-out = Se cerró la sesión en todos los dispositivos que la tenían abierta.
reset-email-then-required = Si no terminó de configurar una nueva aplicación de autenticación, su próximo inicio de sesión se lo pedirá.
reset-email-then-optional = Si no terminó de configurar una nueva aplicación de autenticación, su cuenta queda protegida solo por su contraseña: añada una ahora en la configuración de su cuenta.
reset-email-then-unknown = Si no terminó de configurar una nueva aplicación de autenticación, configure una la próxima vez que inicie sesión.
reset-email-sms-removed = También se desactivaron los códigos de inicio de sesión por SMS: iban al número del teléfono perdido. Indique su nuevo número de teléfono en la configuración de su cuenta para volver a usarlos.
reset-email-email-mfa-remains = Los códigos de inicio de sesión por correo siguen funcionando: llegan a esta dirección.
reset-email-passkey-remains = Su cuenta todavía tiene registrada una llave de acceso. Si estaba en el teléfono perdido, quítela en la configuración de su cuenta: la recuperación no puede quitar llaves de acceso.
reset-email-not-you = Si no fue usted, puede que alguien conozca su contraseña y su correo: cambie su contraseña ahora y contacte con soporte.

## La eliminación espera y se puede cancelar.
scheduled-email-subject = Se quitará su aplicación de autenticación: cancele si no fue usted
scheduled-email-title = Se quitará su aplicación de autenticación
scheduled-email-confirmed = Alguien confirmó una solicitud para quitar la aplicación de autenticación de su cuenta.
scheduled-email-when = La aplicación de autenticación se quitará el { $at }. Hasta entonces no cambia nada.
scheduled-email-stop = Si no fue usted, deténgalo ahora con este enlace de un solo uso y después cambie su contraseña y la de esta cuenta de correo:
scheduled-email-then-required = Si fue usted, no tiene que hacer nada hasta entonces. Después, su próximo inicio de sesión le pedirá que configure una nueva aplicación de autenticación.
scheduled-email-then-optional = Si fue usted, no tiene que hacer nada hasta entonces. Después, configure una nueva aplicación de autenticación en la configuración de su cuenta: hasta que lo haga, solo su contraseña protege su cuenta.
scheduled-email-then-unknown = Si fue usted, no tiene que hacer nada hasta entonces. Después, configure una nueva aplicación de autenticación.

## Una recuperación bloqueada tras códigos incorrectos.
locked-email-subject = Una recuperación de su cuenta se bloqueó tras códigos incorrectos
locked-email-title = Una recuperación de su cuenta se bloqueó
locked-email-what = Alguien intentó quitar la aplicación de autenticación de su cuenta e introdujo un código de recuperación incorrecto { $attempts ->
        [one] una vez
       *[other] { $attempts } veces
    }, así que esa recuperación está ahora bloqueada. No se cambió nada.
locked-email-then = Si fue usted, pida un código nuevo más tarde. Si no, alguien conoce su nombre de usuario y puede estar intentando apoderarse de su cuenta: cambie su contraseña y guarde bien su aplicación de autenticación.

## Alguien prueba códigos para la cuenta desde muchas direcciones (como mucho una vez al día).
guessing-email-subject = Alguien está probando códigos de recuperación para su cuenta
guessing-email-title = Alguien está probando códigos de recuperación para su cuenta
guessing-email-what = En las últimas 24 horas se introdujeron códigos de recuperación incorrectos para su cuenta { $failures ->
        [one] una vez
       *[other] { $failures } veces
    }. No se cambió nada y, por ahora, se rechazan los intentos desde direcciones que no pidieron un código.
guessing-email-owner = Si está recuperando su cuenta usted mismo, confirme desde la red desde la que pidió su código o use el enlace de su correo de recuperación más reciente: adivinar desde otro lugar no detiene ninguna de las dos cosas. O contacte con su equipo de soporte.
guessing-email-then = Si no es usted, alguien conoce su nombre de usuario: proteja su contraseña y su cuenta de correo.

## After the new authenticator: the passkeys the owner removed, and those left.
passkeys-email-subject = Sus llaves de acceso tras la recuperación de la cuenta
passkeys-email-intro = Tras la recuperación de su cuenta, configuró una nueva aplicación de autenticación y revisó las llaves de acceso registradas en su cuenta.
passkeys-email-removed = Eliminó { $count ->
        [one] esta llave de acceso
       *[other] estas { $count } llaves de acceso
    }:
passkeys-email-remaining = { $count ->
        [one] Esta llave de acceso aún puede iniciar sesión en su cuenta
       *[other] Estas { $count } llaves de acceso aún pueden iniciar sesión en su cuenta
    }:
passkeys-email-remaining-then = Si alguna estaba en el teléfono perdido, elimínela en la configuración de su cuenta: quien tenga ese teléfono y pueda desbloquearlo puede iniciar sesión con ella.
passkeys-email-passkey = { $name }, añadida el { $added }
passkeys-email-none-left = No queda ninguna llave de acceso en su cuenta.
passkeys-email-not-you = Si no fue usted, contacte con soporte de inmediato y cambie su contraseña.
