# Los SMS que acompañan a los avisos: sin código ni enlace. $name es el nombre del servicio.

text-reset = { $name }: se quitó la aplicación de autenticación de su cuenta tras una recuperación. Si no fue usted, lea el correo que le enviamos y contacte con soporte ahora.
text-scheduled = { $name }: una recuperación de su cuenta quitará su aplicación de autenticación. Si no fue usted, lea ahora el correo que le enviamos para detenerla.
text-locked = { $name }: una recuperación de su cuenta se bloqueó tras códigos incorrectos. Si no fue usted, lea el correo que le enviamos.
