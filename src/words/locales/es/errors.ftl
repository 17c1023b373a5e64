# Lo que dice cada fallo de un caso de uso, igual en el `detail` de un problema y en una página.
# Las esperas son minutos enteros ($minutes), en singular o plural según las reglas del idioma.

error-invalid-recovery = Ese código o esa contraseña no son correctos, o el código caducó o fue sustituido por uno más reciente. Revise el correo más reciente o pida un código nuevo.
error-locked = Se escribieron demasiados códigos incorrectos desde esta red, así que este código ya no sirve aquí. Pida un código nuevo más tarde o pida a soporte que quite el bloqueo.
error-account-throttled = Demasiados intentos fallidos para esta cuenta últimamente. Inténtelo de nuevo en { $minutes ->
        [one] { $minutes } minuto
       *[other] { $minutes } minutos
    }.
error-address-limited = Demasiadas solicitudes desde su red. Inténtelo de nuevo en { $minutes ->
        [one] { $minutes } minuto
       *[other] { $minutes } minutos
    }.
error-limits-unavailable = El servicio no puede comprobar sus límites ahora, así que no se hizo nada. Inténtelo de nuevo en breve.
error-database-unavailable = El servicio no puede acceder a su base de datos ahora, así que no se hizo nada. Inténtelo de nuevo en unos segundos.
error-busy = Estamos muy ocupados ahora. No se comprobó nada y su código sigue sirviendo: inténtelo de nuevo en unos segundos.
error-reset-in-progress = Se está quitando su aplicación de autenticación perdida. Inténtelo de nuevo en unos segundos con el mismo código para verlo terminado.
error-idp-unavailable-code-kept = No pudimos contactar con el servicio de inicio de sesión. Su código sigue sirviendo: inténtelo de nuevo en un minuto. Si la eliminación ya había empezado, el servicio la termina por sí solo.
error-reset-not-applied = El servicio de inicio de sesión no quitó la aplicación de autenticación perdida, así que no se cambió nada. Contacte con soporte; el intento quedó registrado.
error-internal = Algo falló de nuestro lado. No se perdió nada: inténtelo de nuevo.
error-invalid-totp = Ese código no coincide. Compruebe que la aplicación muestra esta cuenta y escriba su código actual.
error-invalid-sign-in-code = Ese no es el código que acabamos de enviar. Revise el SMS o el correo más reciente y escriba su código.
error-enrollment-gone = Este paso de configuración caducó o ya se usó. Inicie sesión: se le pedirá que configure su aplicación de autenticación.
error-enrol-link-invalid = Este enlace caducó o ya se usó, o la contraseña no es correcta. Si ya configuró una nueva aplicación de autenticación, no hay nada más que hacer.
error-idp-unavailable-enrollment-kept = No pudimos contactar con el servicio de inicio de sesión. Su configuración sigue abierta: inténtelo de nuevo en un minuto.
error-enrollment-not-applied = El servicio de inicio de sesión aceptó el código, pero no convirtió la aplicación en su factor de inicio de sesión. Inicie sesión para configurar su aplicación o contacte con soporte; el intento quedó registrado.
error-passkey-not-found = Esa llave de acceso ya no está en su cuenta. La lista muestra las que hay.
error-passkey-not-removed = El servicio de inicio de sesión no eliminó esa llave de acceso. Inténtelo de nuevo o elimínela en la configuración de su cuenta.
error-cancel-link-invalid = Este enlace no es válido: ya se usó, o la eliminación ya se aplicó o se canceló. Si no pidió una recuperación, cambie su contraseña y contacte con soporte.
error-user-not-found = Ningún usuario del grupo tiene este nombre de usuario, alias o correo electrónico.
error-several-users = { $count } usuarios tienen este correo electrónico. Busque por su nombre de usuario.
error-own-account = Esta es su propia cuenta. Pida ayuda a un compañero: en soporte nadie actúa sobre su propia cuenta.
error-self-approval = Usted inició esta recuperación: otra persona con el rol de aprobador debe aprobarla.
error-not-approvable = Esta recuperación está { $status }: no hay nada que aprobar.
error-reason-required = Hace falta un motivo: de 1 a { $max } caracteres, como lo que pidió la persona que llama, sin caracteres de control.
error-ticket-invalid = Una referencia de incidencia tiene como máximo { $max } caracteres, sin caracteres de control.
error-verification-detail-required = Describa cómo verificó a la persona que llama: de 1 a { $max } caracteres.
error-no-verified-email = El usuario no tiene un correo electrónico verificado, así que no se puede enviar ningún código. Verifique primero la dirección en Cognito.
error-nothing-to-recover = El usuario tiene { $missing }, así que no hay nada que recuperar.
error-user-disabled = El usuario está deshabilitado en Cognito, así que no se envía ningún código. Habilite primero al usuario si la recuperación es legítima.
error-email-budget-spent = Se agotó el presupuesto de correos por hora del servicio, así que no se pudo enviar ningún código y no se puso nada en cola. Inténtelo de nuevo en { $minutes ->
        [one] { $minutes } minuto
       *[other] { $minutes } minutos
    }.
error-support-quota-spent = Se iniciaron { $started } recuperaciones para este usuario en las últimas 24 horas{ $per-day ->
        [none] {""}
       *[other] {" "}(como máximo { $per-day })
    }.
error-recovery-not-found = No existe esa recuperación.
error-not-cancellable = La recuperación está { $status } y ya no se puede cancelar.
error-idp-refuses-pool = El proveedor de identidad no deja al servicio leer el grupo de usuarios, así que no se puso nada en cola. Es un problema de configuración: avise al equipo de operaciones.
error-idp-unavailable-nothing-queued = No se pudo contactar con el proveedor de identidad. No se puso nada en cola: inténtelo de nuevo en breve.

# El título de cada código de problema: el `title` de problem+json y el encabezado de una página que lo muestra.
title-invalid-request = Solicitud no válida
title-invalid-recovery = Recuperación no válida
title-too-many-attempts = Demasiados intentos
title-rate-limited = Demasiadas solicitudes
title-identity-provider-unavailable = Proveedor de identidad no disponible
title-mfa-reset-failed = Aplicación de autenticación no quitada
title-reset-in-progress = Eliminación en curso
title-unauthorized = No autenticado
title-forbidden = No permitido
title-user-not-found = Usuario no encontrado
title-no-verified-email = Sin correo verificado
title-no-totp-authenticator = Sin aplicación de autenticación
title-user-disabled = Usuario deshabilitado
title-email-budget-spent = Presupuesto de correo agotado
title-recovery-not-found = Recuperación no encontrada
title-recovery-not-cancellable = Recuperación no cancelable
title-invalid-cancel-token = Enlace de cancelación no válido
title-invalid-totp = Código no válido
title-invalid-sign-in-code = Código no válido
title-invalid-enrollment = Configuración no válida
title-enrollment-failed = Aplicación de autenticación no configurada
title-passkey-not-found = Llave de acceso no encontrada
title-passkey-not-removed = Llave de acceso no eliminada
title-payload-too-large = Solicitud demasiado grande
title-unsupported-media-type = Formato no admitido
title-not-found = No encontrado
title-method-not-allowed = Método no permitido
title-service-unavailable = Servicio no disponible
title-not-ready = No está listo
title-internal-error = Error interno
title-sign-in-failed = Inicio de sesión fallido
title-several-users = Varios usuarios
title-own-account = Su propia cuenta
title-self-approval = Su propia solicitud
title-recovery-not-approvable = Nada que aprobar
