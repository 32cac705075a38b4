/*
 * template.h: Step Functions parameter templates (DESIGN 3.4).
 *
 * A template is YAML (or JSON).  A mapping key ending in ".$" takes
 * the value named by its string value, evaluated on the input record:
 * a JSONPath ($, .name, ['name'], [N]) gives that JSON value as is, and
 * States.Format('...{}...', ARG, ...) gives a string.  The ".$" is
 * removed from the key.  Every other value is copied literally.  Values
 * are JSON values; nothing ever goes through a shell.
 */
#ifndef LB_TEMPLATE_H
#define LB_TEMPLATE_H

#include "lb.h"

struct lb_template;

/*
 * Parse a template (the first YAML document) and check every ".$"
 * expression's syntax.  Errors (LB_EUSAGE) read "NAME:LINE: why".
 */
struct lb_template *lb_template_parse(const char *text, size_t len,
	    const char *name, struct lb_err *);
struct lb_template *lb_template_load(const char *path, struct lb_err *);
/* A template given as JSON already (e.g. a member of a record). */
struct lb_template *lb_template_from_json(const cJSON *, const char *name,
	    struct lb_err *);
const char *lb_template_name(const struct lb_template *);
/*
 * Render on doc.  Returns a new tree (caller frees) or NULL with err
 * (LB_EFAIL, "NAME:LINE: KEY: why") when a path is missing or a value
 * does not fit.
 */
cJSON	*lb_template_render(const struct lb_template *, const cJSON *doc,
	    struct lb_err *);
void	 lb_template_free(struct lb_template *);

/*
 * Evaluate one expression (a JSONPath or States.Format(...)) on doc.
 * Returns a new node or NULL with err (LB_EUSAGE for bad syntax,
 * LB_EFAIL for a missing path or an unusable value).  With doc NULL
 * only the syntax is checked (returns a JSON null on success).
 */
cJSON	*lb_template_expr(const char *expr, const cJSON *doc,
	    struct lb_err *);

#endif
