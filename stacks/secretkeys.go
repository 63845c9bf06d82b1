package stacks

// SecretKey is a secret config key without the project namespace: the name of the environment
// variable it becomes (openneuro:JWT_SECRET -> JWT_SECRET). Code names a secret by these constants
// only; SecretSpecs says what each is, and a test keeps any other spelling of one out of the code.
type SecretKey string

// The secret config keys, in the order of SecretSpecs.
const (
	SecretJWTSecret               SecretKey = "JWT_SECRET"
	SecretGoogleClientID          SecretKey = "GOOGLE_CLIENT_ID"
	SecretGoogleClientSecret      SecretKey = "GOOGLE_CLIENT_SECRET"
	SecretOrcidClientID           SecretKey = "ORCID_CLIENT_ID"
	SecretOrcidClientSecret       SecretKey = "ORCID_CLIENT_SECRET"
	SecretOrcidAPIEndpoint        SecretKey = "ORCID_API_ENDPOINT"
	SecretGlobusClientID          SecretKey = "GLOBUS_CLIENT_ID"
	SecretGlobusClientSecret      SecretKey = "GLOBUS_CLIENT_SECRET"
	SecretGithubClientID          SecretKey = "GITHUB_CLIENT_ID"
	SecretGithubClientSecret      SecretKey = "GITHUB_CLIENT_SECRET"
	SecretCRNServerMailService    SecretKey = "CRN_SERVER_MAIL_SERVICE"
	SecretCRNServerMailUser       SecretKey = "CRN_SERVER_MAIL_USER"
	SecretCRNServerMailURL        SecretKey = "CRN_SERVER_MAIL_URL"
	SecretCRNServerMailPass       SecretKey = "CRN_SERVER_MAIL_PASS"
	SecretCRNServerMailAPIKey     SecretKey = "CRN_SERVER_MAIL_API_KEY"
	SecretCRNServerMailAPISecret  SecretKey = "CRN_SERVER_MAIL_API_SECRET"
	SecretCRNServerMailFrom       SecretKey = "CRN_SERVER_MAIL_FROM"
	SecretAWSRegion               SecretKey = "AWS_REGION"
	SecretAWSAccountID            SecretKey = "AWS_ACCOUNT_ID"
	SecretAWSAccessKeyID          SecretKey = "AWS_ACCESS_KEY_ID"
	SecretAWSSecretAccessKey      SecretKey = "AWS_SECRET_ACCESS_KEY"
	SecretAWSS3PrivateBucket      SecretKey = "AWS_S3_PRIVATE_BUCKET"
	SecretAWSS3PublicBucket       SecretKey = "AWS_S3_PUBLIC_BUCKET"
	SecretGCPAccessKeyID          SecretKey = "GCP_ACCESS_KEY_ID"
	SecretGCPSecretAccessKey      SecretKey = "GCP_SECRET_ACCESS_KEY"
	SecretGCPS3BackupBucket       SecretKey = "GCP_S3_BACKUP_BUCKET"
	SecretDataladGithubLogin      SecretKey = "DATALAD_GITHUB_LOGIN"
	SecretDataladGithubOrg        SecretKey = "DATALAD_GITHUB_ORG"
	SecretDataladGithubPass       SecretKey = "DATALAD_GITHUB_PASS"
	SecretDataladGithubToken      SecretKey = "DATALAD_GITHUB_TOKEN"
	SecretDOIUsername             SecretKey = "DOI_USERNAME"
	SecretDOIPassword             SecretKey = "DOI_PASSWORD"
	SecretDOIPrefix               SecretKey = "DOI_PREFIX"
	SecretDOIURL                  SecretKey = "DOI_URL"
	SecretFlowerBasicAuth         SecretKey = "FLOWER_BASIC_AUTH"
	SecretMongoURL                SecretKey = "MONGO_URL"
	SecretEngineAPIKey            SecretKey = "ENGINE_API_KEY"
	SecretElasticsearchConnection SecretKey = "ELASTICSEARCH_CONNECTION"
	SecretDataladSSHKey           SecretKey = "DATALAD_SSH_KEY"
	SecretClusterKubeconfig       SecretKey = "CLUSTER_KUBECONFIG"
)
