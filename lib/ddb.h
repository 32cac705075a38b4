/*
 * ddb.h: DynamoDB.  Plain JSON <-> AttributeValue, expression
 * placeholders and the few calls the tools make.
 *
 * Mapping (plain -> AttributeValue):
 *	string		S
 *	number		N, as plain decimal text: integral values without an
 *			exponent or fraction, others with the shortest text
 *			that reads back as the same double; NaN/Inf rejected
 *	true/false	BOOL
 *	null		NULL
 *	array		L
 *	object		M, except {"$base64":"..."} (exactly that one
 *			member, valid base64) which is B
 * and back (AttributeValue -> plain):
 *	N		a number whose printed text is the original N text;
 *			when cJSON would print it differently (more than
 *			about 15 significant digits) the node is a cJSON raw
 *			node carrying the text, so it is still printed exactly
 *	B		{"$base64":"..."}, so that it goes back in as B
 *	SS, NS, BS	arrays of strings, numbers, {"$base64"} objects
 *			(sets do not survive a round trip: they become L)
 */
#ifndef LB_DDB_H
#define LB_DDB_H

#include "lb.h"

#define LB_DDB_TARGET	"DynamoDB_20120810."
#define LB_DDB_B64	"$base64"

/* One value to AttributeValue; NULL with err (LB_EFAIL) when impossible. */
cJSON	*lb_ddb_to_av(const cJSON *plain, struct lb_err *);
/* An object to an item (map of AttributeValues). */
cJSON	*lb_ddb_to_item(const cJSON *obj, struct lb_err *);
/* One AttributeValue to plain JSON. */
cJSON	*lb_ddb_from_av(const cJSON *av, struct lb_err *);
/* An item to a plain object. */
cJSON	*lb_ddb_from_item(const cJSON *item, struct lb_err *);
/*
 * A double as DynamoDB number text (plain decimal, no exponent).
 * -1 for NaN/Inf or when buf (at least 64 bytes; 700 covers every
 * double) is too small.
 */
int	lb_ddb_number(double, char *buf, size_t len);
/* Is s JSON number text (-?int frac? exp?)? */
int	lb_ddb_isnumber(const char *s);

/*
 * cJSON keeps numbers as doubles, which loses digits past about 15.
 * Given the text j was parsed from, turn every number with more than 15
 * significant digits into a raw node holding its original text, so that
 * it goes to DynamoDB (and is printed) exactly.  -1 when text does not
 * match j.
 */
int	lb_ddb_keep_numbers(cJSON *j, const char *text, size_t len);

/*
 * Expression attribute names and values: every name and value goes
 * through a placeholder (#n0, :v0), never into the expression text.
 */
struct lb_ddb_expr {
	cJSON	*names;		/* ExpressionAttributeNames */
	cJSON	*values;	/* ExpressionAttributeValues */
	int	 nn, nv;
};
void	lb_ddb_expr_init(struct lb_ddb_expr *);
void	lb_ddb_expr_free(struct lb_ddb_expr *);
/* Placeholder for an attribute name, e.g. "#n0" (static until next call). */
const char *lb_ddb_expr_name(struct lb_ddb_expr *, const char *attr);
/* Placeholder for a value (takes ownership of av). */
const char *lb_ddb_expr_value(struct lb_ddb_expr *, cJSON *av);
/* Add the non-empty names/values to a request body. */
void	lb_ddb_expr_attach(struct lb_ddb_expr *, cJSON *body);

/*
 * A DynamoDB call: op is "PutItem", "Query", ...; body is the request.
 * Returns the answer or NULL with err (err->code e.g.
 * ConditionalCheckFailedException, ResourceNotFoundException).
 */
cJSON	*lb_ddb_call(struct lb_aws *, const char *op, const cJSON *body,
	    struct lb_err *);
/*
 * GetItem of key (an item).  1 and *item (plain JSON) when found, 0 on
 * a miss, -1 with err.
 */
int	lb_ddb_get(struct lb_aws *, const char *table, const cJSON *key,
	    cJSON **item, struct lb_err *);

#endif
