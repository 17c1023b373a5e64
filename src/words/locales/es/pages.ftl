# Los textos de las páginas de recuperación y de la página de cancelación.

# El nombre del idioma en sí mismo, en el selector de idioma.
language-name = Español
page-languages-label = Idioma
page-service = Recuperación de la cuenta
page-start-title = ¿Perdió el teléfono con su aplicación de autenticación?
page-start-intro = Introduzca su nombre de usuario. Si su cuenta se puede recuperar, le enviaremos por correo electrónico un código de un solo uso para demostrar que es usted.
page-username-label = Nombre de usuario o correo electrónico
page-username-hint = El nombre con el que inicia sesión.
page-start-button = Enviarme un código por correo
page-check-title = Revise su correo electrónico
page-check-intro = Si la cuenta se puede recuperar, un correo con un código de 8 dígitos va de camino a la dirección registrada. Puede tardar un minuto. El código sirve una sola vez y caduca pronto.
page-have-code-title = Introduzca su código de recuperación
page-have-code-intro = Introduzca su nombre de usuario, el código de 8 dígitos del correo y su contraseña.
page-have-code-link = ¿Ya tiene un código? Introdúzcalo aquí
page-code-label = Código del correo
page-code-hint = 8 dígitos, por ejemplo 1234 5678.
page-password-label = Su contraseña
page-confirm-button = Quitar la aplicación de autenticación perdida
page-start-again = Empezar de nuevo
page-enrol-title = Configure su nueva aplicación de autenticación
page-enrol-intro = La aplicación de autenticación de su teléfono perdido ya no funciona y se cerró la sesión en todos los dispositivos. Añada ahora su cuenta a una aplicación de autenticación en su teléfono nuevo.
page-qr-label = Código QR con la clave de su nueva aplicación de autenticación
page-manual-key = O escriba esta clave en la aplicación:
page-open-in-app = ¿En este teléfono? Ábralo en su aplicación de autenticación
page-expires = Termine antes de las
page-totp-label = Código de 6 dígitos de la aplicación
page-totp-hint = La aplicación muestra un código nuevo cada 30 segundos.
page-enrol-button = Terminar
page-sign-in-code-title = Introduzca el código que acabamos de enviar
page-sign-in-code-intro-sms = Su cuenta también inicia sesión con códigos por SMS, así que acabamos de enviar uno a { $destination }. Introdúzcalo para continuar con su nueva aplicación de autenticación.
page-sign-in-code-intro-email = Su cuenta también inicia sesión con códigos por correo, así que acabamos de enviar uno a { $destination }. Introdúzcalo para continuar con su nueva aplicación de autenticación.
page-sign-in-code-label = Código del SMS o del correo
page-sign-in-code-button = Continuar
page-sign-in-code-malformed = Introduzca los 6 a 8 dígitos del código que enviamos.
page-resume-title = Configure su nueva aplicación de autenticación
page-resume-intro = Se quitó su aplicación de autenticación perdida. Introduzca su contraseña para añadir su cuenta a una aplicación de autenticación en su teléfono nuevo.
page-resume-button = Continuar
page-link-title = Quite su aplicación de autenticación perdida
page-link-intro = Abrió el enlace de su correo de recuperación. Confirme para quitar de su cuenta la aplicación de autenticación de su teléfono perdido; justo después configurará una nueva.
page-link-button = Quitarla y continuar
page-enrolled-title = Todo listo
page-enrolled-body = Su nueva aplicación de autenticación está lista. Al iniciar sesión, introduzca un código de ella.
page-removed-title = Se quitó su aplicación de autenticación perdida
page-removed-body = Se cerró la sesión en todos los dispositivos. La próxima vez que inicie sesión, configure una aplicación de autenticación en su teléfono nuevo.
page-scheduled-title = Su aplicación de autenticación se quitará pronto
page-scheduled-body = Por su seguridad hay un periodo de espera. Le enviamos un correo con la hora en que termina y cómo detenerlo si no fue usted.
page-sign-in = Ir al inicio de sesión
page-problem-title = Algo requiere su atención
page-cancel-title = ¿Detener la eliminación de su aplicación de autenticación?
page-cancel-intro = Alguien confirmó una solicitud para quitar la aplicación de autenticación de su cuenta. Si no fue usted, deténgala aquí.
page-cancel-button = Detener la eliminación de mi aplicación de autenticación
page-cancelled-title = Detenido
page-cancelled-body = La aplicación de autenticación no se quitará. Si no lo solicitó usted, cambie ahora su contraseña: alguien que la conoce pidió quitar su aplicación de autenticación.
page-error-prefix = Error:
page-username-invalid = Introduzca el nombre de usuario o el correo con el que inicia sesión (hasta 128 caracteres).
page-code-invalid = Introduzca los 8 dígitos del correo, por ejemplo 1234 5678.
page-password-missing = Introduzca su contraseña.
page-totp-malformed = Introduzca los 6 dígitos que muestra su aplicación de autenticación.
page-session-expired = Este formulario caducó o las cookies están bloqueadas. Empiece de nuevo.
page-not-found = Esta página no existe.
# Before how to reach support, on pages that show a problem (SUPPORT_CONTACT).
page-help = ¿Necesita ayuda?

## After the new authenticator: the user's passkeys.
page-passkeys-title = Llaves de acceso de su cuenta
page-passkeys-intro = Una llave de acceso inicia sesión sin la aplicación de autenticación. Elimine cualquier llave que estuviera en el teléfono perdido; conserve las de los dispositivos que todavía tiene.
page-passkey-added = añadida el { $added }
page-passkey-remove = Eliminar { $name }
page-passkey-remove-button = Eliminar
page-passkey-removed = Llave de acceso eliminada.
page-passkeys-until = Puede eliminar llaves de acceso aquí hasta
page-passkeys-done = Listo
page-passkeys-finished = Se cerró su sesión en todas partes. { $count ->
        [0] No queda ninguna llave de acceso en su cuenta.
        [one] Queda una llave de acceso en su cuenta; le enviamos su nombre por correo.
       *[other] Quedan { $count } llaves de acceso en su cuenta; le enviamos sus nombres por correo.
    }
