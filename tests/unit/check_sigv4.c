/*
 * check_sigv4.c: the SigV4 signer against known answers.
 *
 * The vectors are the AWS SigV4 test-suite requests, the EKS token
 * presign (k8s.md 4.3) and the S3 documentation examples, computed once
 * with botocore at a fixed clock by tests/data/sigv4/gen-vectors.py.
 * get-vanilla, the EKS presigns and the S3 examples also match the
 * published signatures.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "lb.h"

struct vec {
	const char	*name, *method, *url;
	const char	*headers[6];
	const char	*body, *region, *service, *token;
	int		 s3;
	time_t		 t;
	int		 presign;
	const char	*akid, *secret;
	const char	*canonical, *to_sign, *signature;
	const char	*result;	/* Authorization, or the presigned URL */
};

static const struct vec vecs[] = {
	{ "get-vanilla", "GET", "https://example.amazonaws.com/",
	    { "Host: example.amazonaws.com", "X-Amz-Date: 20150830T123600Z", NULL },
	    NULL, "us-east-1", "service", NULL, 0, 1440938160, 0, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	    "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
	{ "get-vanilla-query-order-key-case", "GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1",
	    { "Host: example.amazonaws.com", "X-Amz-Date: 20150830T123600Z", NULL },
	    NULL, "us-east-1", "service", NULL, 0, 1440938160, 0, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	    "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
	    "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500" },
	{ "get-vanilla-query-unreserved", "GET", "https://example.amazonaws.com/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
	    { "Host: example.amazonaws.com", "X-Amz-Date: 20150830T123600Z", NULL },
	    NULL, "us-east-1", "service", NULL, 0, 1440938160, 0, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	    "GET\n/\n-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nc30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
	    "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197" },
	{ "get-space", "GET", "https://example.amazonaws.com/example space/",
	    { "Host: example.amazonaws.com", "X-Amz-Date: 20150830T123600Z", NULL },
	    NULL, "us-east-1", "service", NULL, 0, 1440938160, 0, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	    "GET\n/example%20space/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86",
	    "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741" },
	{ "get-utf8", "GET", "https://example.amazonaws.com/\341\210\264",
	    { "Host: example.amazonaws.com", "X-Amz-Date: 20150830T123600Z", NULL },
	    NULL, "us-east-1", "service", NULL, 0, 1440938160, 0, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	    "GET\n/%E1%88%B4\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
	    "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85" },
	{ "post-x-www-form-urlencoded", "POST", "https://example.amazonaws.com/",
	    { "Host: example.amazonaws.com", "X-Amz-Date: 20150830T123600Z", "Content-Type: application/x-www-form-urlencoded", NULL },
	    "Param1=value1", "us-east-1", "service", NULL, 0, 1440938160, 0, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	    "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
	    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
	    "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a" },
	{ "post-vanilla", "POST", "https://example.amazonaws.com/",
	    { "Host: example.amazonaws.com", "X-Amz-Date: 20150830T123600Z", NULL },
	    NULL, "us-east-1", "service", NULL, 0, 1440938160, 0, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	    "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
	    "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b" },
	{ "post-sts-token", "POST", "https://example.amazonaws.com/",
	    { "Host: example.amazonaws.com", "X-Amz-Date: 20150830T123600Z", NULL },
	    NULL, "us-east-1", "service", "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==", 0, 1440938160, 0, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	    "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==\n\nhost;x-amz-date;x-amz-security-token\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nc237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
	    "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead" },
	{ "eks-presign-mycluster", "GET", "https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
	    { "x-k8s-aws-id: mycluster", NULL },
	    NULL, "us-west-2", "sts", NULL, 0, 1440938160, 60, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	    "GET\n/\nAction=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-west-2%2Fsts%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id\nhost:sts.us-west-2.amazonaws.com\nx-k8s-aws-id:mycluster\n\nhost;x-k8s-aws-id\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-west-2/sts/aws4_request\nff7a4850edd584bd7108c80080c52a4657302038f74e0ee33f373f5a0940c8d9",
	    "0477120c35b25f86f92a676e6b7ca1b81b8791c9cd5e6e2357e3f268ca3d52a7",
	    "https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-west-2%2Fsts%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=0477120c35b25f86f92a676e6b7ca1b81b8791c9cd5e6e2357e3f268ca3d52a7" },
	{ "eks-presign-my-cluster", "GET", "https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
	    { "x-k8s-aws-id: my-cluster", NULL },
	    NULL, "us-west-2", "sts", NULL, 0, 1704164645, 60, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	    "GET\n/\nAction=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240102%2Fus-west-2%2Fsts%2Faws4_request&X-Amz-Date=20240102T030405Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id\nhost:sts.us-west-2.amazonaws.com\nx-k8s-aws-id:my-cluster\n\nhost;x-k8s-aws-id\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n20240102T030405Z\n20240102/us-west-2/sts/aws4_request\n5ced091b3ee6c8fcec713096bbf021a5d4eb41515d8ade0189775b95007e7231",
	    "96ddda09e9523f6363892f52e5828dd6265b22ec87d8c91e28200a0ba6b77a30",
	    "https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240102%2Fus-west-2%2Fsts%2Faws4_request&X-Amz-Date=20240102T030405Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=96ddda09e9523f6363892f52e5828dd6265b22ec87d8c91e28200a0ba6b77a30" },
	{ "eks-presign-my-cluster-token", "GET", "https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
	    { "x-k8s-aws-id: my-cluster", NULL },
	    NULL, "us-west-2", "sts", "FQoGZXIvYXdzEXAMPLE/+=", 0, 1704164645, 60, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	    "GET\n/\nAction=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240102%2Fus-west-2%2Fsts%2Faws4_request&X-Amz-Date=20240102T030405Z&X-Amz-Expires=60&X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLE%2F%2B%3D&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id\nhost:sts.us-west-2.amazonaws.com\nx-k8s-aws-id:my-cluster\n\nhost;x-k8s-aws-id\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n20240102T030405Z\n20240102/us-west-2/sts/aws4_request\n3681b4a572ccec8367cc68ba35f5707c97d6cade1c11a389122c3c1629a3f764",
	    "644880cdedc7c79d54f8624a63f3ce0ac1bd182980de62beb9701a2643583eef",
	    "https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240102%2Fus-west-2%2Fsts%2Faws4_request&X-Amz-Date=20240102T030405Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLE%2F%2B%3D&X-Amz-Signature=644880cdedc7c79d54f8624a63f3ce0ac1bd182980de62beb9701a2643583eef" },
	{ "s3-get-object", "GET", "https://examplebucket.s3.amazonaws.com/test.txt",
	    { "Range: bytes=0-9", NULL },
	    NULL, "us-east-1", "s3", NULL, 1, 1369353600, 0, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	    "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
	    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
	    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41" },
	{ "s3-presign", "GET", "https://examplebucket.s3.amazonaws.com/test.txt",
	    { NULL },
	    NULL, "us-east-1", "s3", NULL, 1, 1369353600, 86400, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	    "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\nhost:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD",
	    "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04",
	    "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
	    "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404" },
};

/* The query parameters of a URL, sorted, for order-free comparison. */
static char *
sorted_query(const char *url)
{
	const char *q = strchr(url, '?');
	char *s, *p, *parts[32], *out;
	size_t n = 0, i, j, len = 0;

	ck_assert_ptr_nonnull(q);
	s = strdup(q + 1);
	for (p = strtok(s, "&"); p != NULL && n < 32; p = strtok(NULL, "&"))
		parts[n++] = p;
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(parts[j - 1], parts[j]) > 0; j--) {
			p = parts[j];
			parts[j] = parts[j - 1];
			parts[j - 1] = p;
		}
	for (i = 0; i < n; i++)
		len += strlen(parts[i]) + 1;
	out = calloc(1, len + 1);
	for (i = 0; i < n; i++) {
		strcat(out, parts[i]);
		strcat(out, "&");
	}
	free(s);
	return out;
}

START_TEST(test_vector)
{
	const struct vec *v = &vecs[_i];
	struct lb_creds creds = { 0 };
	struct lb_sigv4 cfg = { 0 };
	struct lb_sigv4_out out;
	struct lb_err err = { 0 };
	struct curl_slist *list = NULL;
	char *url, *a, *b;
	int rc;

	creds.akid = (char *)v->akid;
	creds.secret = (char *)v->secret;
	creds.token = (char *)v->token;
	cfg.creds = &creds;
	cfg.region = v->region;
	cfg.service = v->service;
	cfg.s3 = v->s3;
	cfg.now = v->t;
	if (v->presign) {
		url = lb_sigv4_presign(&cfg, v->method, v->url, v->headers,
		    v->presign, &out, &err);
		ck_assert_msg(url != NULL, "%s: %s", v->name, err.msg);
		a = sorted_query(url);
		b = sorted_query(v->result);
		ck_assert_str_eq(a, b);
		ck_assert_int_eq(strncmp(url, v->result,
		    strcspn(v->result, "?")), 0);
		free(a);
		free(b);
		free(url);
	} else {
		rc = lb_sigv4_sign(&cfg, v->method, v->url, v->headers,
		    v->body, v->body ? strlen(v->body) : 0, &list, &out, &err);
		ck_assert_msg(rc == 0, "%s: %s", v->name, err.msg);
		ck_assert_str_eq(out.authorization, v->result);
		a = malloc(strlen(v->result) + 32);
		sprintf(a, "Authorization: %s", v->result);
		ck_assert_str_eq(list->data, a);
		free(a);
		a = malloc(64);
		snprintf(a, 64, "X-Amz-Date: %s", out.amzdate);
		ck_assert_str_eq(list->next->data, a);
		free(a);
		/* the session token and S3's payload hash go along */
		ck_assert_int_eq(!!v->token, list->next->next != NULL &&
		    strncmp(list->next->next->data, "X-Amz-Security-Token: ",
		    22) == 0);
		if (v->s3)
			ck_assert_ptr_nonnull(strstr(v->canonical,
			    "x-amz-content-sha256:"));
		curl_slist_free_all(list);
	}
	ck_assert_str_eq(out.canonical, v->canonical);
	ck_assert_str_eq(out.to_sign, v->to_sign);
	ck_assert_str_eq(out.signature, v->signature);
	lb_sigv4_out_free(&out);
}
END_TEST

static struct lb_creds test_creds = {
	"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, 0
};

static struct lb_sigv4
cfg_for(const char *service, int s3)
{
	struct lb_sigv4 cfg = { 0 };

	cfg.creds = &test_creds;
	cfg.region = "us-west-2";
	cfg.service = service;
	cfg.s3 = s3;
	cfg.now = 1440938160;
	return cfg;
}

/* Sign and return the canonical request (caller frees). */
static char *
canon(const struct lb_sigv4 *cfg, const char *method, const char *url,
    const char *const *hdrs, const char *body)
{
	struct lb_sigv4_out out;
	struct lb_err err = { 0 };
	char *s;

	ck_assert_msg(lb_sigv4_sign(cfg, method, url, hdrs, body,
	    body ? strlen(body) : 0, NULL, &out, &err) == 0, "%s", err.msg);
	s = strdup(out.canonical);
	lb_sigv4_out_free(&out);
	return s;
}

/* The signing key cache never answers for another secret, day, region
 * or service: a known vector signed between the others stays right. */
static char *
auth_of(const struct vec *v, const char *secret, time_t t,
    const char *region, const char *service)
{
	struct lb_creds creds = { 0 };
	struct lb_sigv4 cfg = { 0 };
	struct lb_sigv4_out out;
	struct lb_err err = { 0 };
	struct curl_slist *list = NULL;
	char *a;

	creds.akid = (char *)v->akid;
	creds.secret = (char *)secret;
	creds.token = (char *)v->token;
	cfg.creds = &creds;
	cfg.region = region;
	cfg.service = service;
	cfg.s3 = v->s3;
	cfg.now = t;
	ck_assert_int_eq(lb_sigv4_sign(&cfg, v->method, v->url, v->headers,
	    v->body, v->body ? strlen(v->body) : 0, &list, &out, &err), 0);
	a = strdup(out.authorization);
	curl_slist_free_all(list);
	lb_sigv4_out_free(&out);
	return a;
}

/* signed with a key derived afresh: all four differ from the cached */
static char *
cold_auth_of(const struct vec *v, const char *secret, time_t t,
    const char *region, const char *service)
{
	free(auth_of(v, "flush", 86400 * 3, "flush-1", "flush"));
	return auth_of(v, secret, t, region, service);
}

START_TEST(test_key_cache)
{
	const struct vec *v = vecs;
	char *a, *want;
	int i;

	while (v->presign)
		v++;
	/* each time one thing differs from the key just cached */
	for (i = 0; i < 4; i++) {
		const char *sec = i == 0 ? "another secret" : v->secret;
		time_t t = v->t + (i == 1 ? 86400 : 0);
		const char *reg = i == 2 ? "eu-west-3" : v->region;
		const char *svc = i == 3 ? "other" : v->service;

		want = cold_auth_of(v, sec, t, reg, svc);
		ck_assert_str_ne(want, v->result);
		a = auth_of(v, v->secret, v->t, v->region, v->service);
		ck_assert_str_eq(a, v->result);
		free(a);
		a = auth_of(v, sec, t, reg, svc);
		ck_assert_str_eq(a, want);
		free(a);
		a = auth_of(v, v->secret, v->t, v->region, v->service);
		ck_assert_str_eq(a, v->result);
		free(a);
		free(want);
	}
}
END_TEST

START_TEST(test_canonical_uri)
{
	struct lb_sigv4 cfg = cfg_for("sqs", 0), s3 = cfg_for("s3", 1);
	char *c;

	/* other services: dot segments and // removed, % encoded again */
	c = canon(&cfg, "GET", "http://h/a/./b/../c//d%20e/", NULL, NULL);
	ck_assert_ptr_nonnull(strstr(c, "GET\n/a/c/d%2520e/\n"));
	free(c);
	/* S3: exactly as sent */
	c = canon(&s3, "GET", "http://h/a/./b/../c//d%20e/", NULL, NULL);
	ck_assert_ptr_nonnull(strstr(c, "GET\n/a/./b/../c//d%20e/\n"));
	free(c);
	/* no path at all */
	c = canon(&cfg, "get", "https://H.Example.COM", NULL, NULL);
	ck_assert_ptr_nonnull(strstr(c, "GET\n/\n\nhost:h.example.com\n"));
	free(c);
	c = canon(&cfg, "GET", "http://h/..", NULL, NULL);
	ck_assert_ptr_nonnull(strstr(c, "GET\n/\n"));
	free(c);
}
END_TEST

START_TEST(test_canonical_query)
{
	struct lb_sigv4 cfg = cfg_for("sqs", 0);
	char *c;

	/* re-encoded (upper-case hex, reserved encoded), sorted by key
	 * then value, "k" without '=' is "k=" */
	c = canon(&cfg, "GET",
	    "http://h/?b=2&a=%2f&a=1&c&a-b=x&%7e=%41&e=a%20b#frag", NULL,
	    NULL);
	ck_assert_ptr_nonnull(strstr(c,
	    "\n/\na=%2F&a=1&a-b=x&b=2&c=&e=a%20b&~=A\n"));
	free(c);
	/* a stray '%' is encoded as itself */
	c = canon(&cfg, "GET", "http://h/?k=50%&z=%zz", NULL, NULL);
	ck_assert_ptr_nonnull(strstr(c, "\nk=50%25&z=%25zz\n"));
	free(c);
}
END_TEST

START_TEST(test_canonical_headers)
{
	struct lb_sigv4 cfg = cfg_for("sqs", 0);
	const char *hdrs[] = {
		"X-B:   two   words  ", "x-b: second", "User-Agent: curl",
		"Expect: 100-continue", "X-A;", "Authorization: old",
		"X-Amz-Date: 19990101T000000Z", NULL
	};
	char *c;

	c = canon(&cfg, "POST", "http://127.0.0.1:5000/", hdrs, "x");
	ck_assert_ptr_nonnull(strstr(c, "\nhost:127.0.0.1:5000\n"
	    "x-a:\nx-amz-date:20150830T123600Z\nx-b:two words,second\n\n"
	    "host;x-a;x-amz-date;x-b\n"
	    "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"));
	free(c);
	/* default ports are left out of the host */
	c = canon(&cfg, "GET", "https://h:443/", NULL, NULL);
	ck_assert_ptr_nonnull(strstr(c, "\nhost:h\n"));
	free(c);
	c = canon(&cfg, "GET", "http://u:p@[::1]:8080/", NULL, NULL);
	ck_assert_ptr_nonnull(strstr(c, "\nhost:[::1]:8080\n"));
	free(c);
}
END_TEST

START_TEST(test_payload)
{
	struct lb_sigv4 s3 = cfg_for("s3", 1);
	struct lb_sigv4_out out;
	struct lb_err err = { 0 };
	struct curl_slist *list = NULL;
	char hex[65];

	s3.payload_hash = "UNSIGNED-PAYLOAD";
	ck_assert_int_eq(lb_sigv4_sign(&s3, "PUT", "http://h/b/k", NULL,
	    "data", 4, &list, &out, &err), 0);
	ck_assert_str_eq(out.payload_hash, "UNSIGNED-PAYLOAD");
	ck_assert_ptr_nonnull(strstr(out.canonical,
	    "x-amz-content-sha256:UNSIGNED-PAYLOAD\n"));
	ck_assert_str_eq(list->next->next->data,
	    "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	curl_slist_free_all(list);
	lb_sigv4_out_free(&out);
	lb_sigv4_sha256_hex("abc", 3, hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(test_errors)
{
	struct lb_sigv4 cfg = cfg_for("sqs", 0);
	struct lb_creds none = { 0 };
	struct lb_err err = { 0 };
	const char *bad[] = { "no colon", NULL };
	const char *crlf[] = { "X-A: a\r\nX-Evil: b", NULL };
	struct curl_slist *list = NULL;

	ck_assert_int_eq(lb_sigv4_sign(&cfg, "GET", NULL, NULL, NULL, 0,
	    &list, NULL, &err), -1);
	ck_assert_int_eq(lb_sigv4_sign(&cfg, "GET", "h/path", NULL, NULL, 0,
	    &list, NULL, &err), -1);
	ck_assert_int_eq(err.kind, LB_EUSAGE);
	ck_assert_int_eq(lb_sigv4_sign(&cfg, "GET", "http://h:99999/", NULL,
	    NULL, 0, &list, NULL, &err), -1);
	ck_assert_int_eq(lb_sigv4_sign(&cfg, "GET", "http://:80/", NULL,
	    NULL, 0, &list, NULL, &err), -1);
	ck_assert_int_eq(lb_sigv4_sign(&cfg, "GET", "http://h/", bad,
	    NULL, 0, &list, NULL, &err), -1);
	ck_assert_int_eq(lb_sigv4_sign(&cfg, "GET", "http://h/", crlf,
	    NULL, 0, &list, NULL, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "line break"));
	ck_assert_ptr_null(list);
	ck_assert_ptr_null(lb_sigv4_presign(&cfg, "GET", "http://h/", NULL,
	    0, NULL, &err));
	cfg.creds = &none;
	ck_assert_int_eq(lb_sigv4_sign(&cfg, "GET", "http://h/", NULL,
	    NULL, 0, &list, NULL, &err), -1);
	ck_assert_int_eq(err.kind, LB_EUSAGE);
	cfg.creds = &test_creds;
	cfg.region = NULL;
	ck_assert_int_eq(lb_sigv4_sign(&cfg, "GET", "http://h/", NULL,
	    NULL, 0, &list, NULL, &err), -1);
	ck_assert_ptr_null(list);
}
END_TEST

/* The clock: 0 means now, which lands in X-Amz-Date. */
START_TEST(test_now)
{
	struct lb_sigv4 cfg = cfg_for("sqs", 0);
	struct lb_sigv4_out out;
	struct lb_err err = { 0 };
	char want[32];
	time_t t = time(NULL);

	cfg.now = 0;
	ck_assert_int_eq(lb_sigv4_sign(&cfg, "GET", "http://h/", NULL, NULL,
	    0, NULL, &out, &err), 0);
	strftime(want, sizeof(want), "%Y%m%d", gmtime(&t));
	ck_assert_int_eq(strncmp(out.amzdate, want, 8), 0);
	lb_sigv4_out_free(&out);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sigv4");
	TCase *tc = tcase_create("sigv4");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_vector, 0,
	    (int)(sizeof(vecs) / sizeof(vecs[0])));
	tcase_add_test(tc, test_key_cache);
	tcase_add_test(tc, test_canonical_uri);
	tcase_add_test(tc, test_canonical_query);
	tcase_add_test(tc, test_canonical_headers);
	tcase_add_test(tc, test_payload);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_now);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
