/* secrets.h: AWS Secrets Manager. */
#ifndef LB_SECRETS_H
#define LB_SECRETS_H

#include "lb.h"

/*
 * GetSecretValue of id.  *value becomes: SecretString parsed when it
 * is a JSON object or array, else the string itself; SecretBinary
 * base64-decoded, as a string when the bytes are UTF-8 text without
 * NUL, else {"$base64":"..."}.  Returns 0, or -1 with err; err never
 * holds any part of the secret.
 */
int	lb_secrets_get(struct lb_aws *, const char *id, cJSON **value,
	    struct lb_err *);

/*
 * Decode standard base64 (padding optional, no blanks).  Returns a
 * malloc'd buffer (NUL-terminated, *len bytes) or NULL when s is not
 * base64.
 */
unsigned char *lb_secrets_b64decode(const char *s, size_t *len);

#endif
