package stacks

import (
	"sort"
	"strconv"
	"strings"
)

// Storage configures EFS, the CSI drivers and the storage classes (openneuro:storage).
type Storage struct {
	loadMark
	// Protect marks the stateful resources (EFS, the KMS key, the EdgeFS cluster and its export's
	// volume, the app namespace) with Pulumi's protect, so that no update or destroy can delete
	// them until an operator unprotects them, and retains the app namespace on a destroy: the data
	// claims in it (the datasets, redis's, the workers' disks), which Pulumi never deletes, then
	// stay with it. Default false; prod sets true.
	Protect bool `json:"protect,omitempty"`
	// ReclaimPolicy is the reclaim policy of the storage classes the program creates: Retain (default)
	// keeps the EFS access point or EBS volume when its claim is deleted, Delete removes it.
	ReclaimPolicy string `json:"reclaimPolicy,omitempty"`
	// EFS configures the file system behind the datasets volume (eks mode).
	EFS EFS `json:"efs,omitempty"`
	// EFSCSIDriverVersion pins the aws-efs-csi-driver EKS add-on (eks mode). Default: the build
	// addons.go lists for cluster.kubernetesVersion (v2.3.0-eksbuild.2). The 2.x line keeps one IAM
	// role for controller and node; 3.x splits it.
	EFSCSIDriverVersion string `json:"efsCsiDriverVersion,omitempty"`
	// EBSCSIDriverVersion pins the aws-ebs-csi-driver EKS add-on (eks mode). Default: the build
	// addons.go lists for cluster.kubernetesVersion (v1.56.0-eksbuild.1).
	EBSCSIDriverVersion string `json:"ebsCsiDriverVersion,omitempty"`
	// DatasetsStorageClass is the class of the shared datasets volume. eks mode: "efs", created by the
	// program. existing mode: a class of the cluster; "" means the cluster's default class.
	DatasetsStorageClass string `json:"datasetsStorageClass,omitempty"`
	// DatasetsAccessMode is ReadWriteMany (every worker mounts the same volume; the default in eks
	// mode and with EdgeFS) or ReadWriteOnce, allowed only with a single worker, for single-node
	// clusters without RWX storage. Required with app.datasetStore storageClass (existing mode,
	// generation 2020): the class decides which one it serves.
	DatasetsAccessMode string `json:"datasetsAccessMode,omitempty"`
	// DatasetsSize is the requested size of the datasets volume. EFS ignores it (it grows as needed);
	// other classes use it. Default 100Gi.
	DatasetsSize string `json:"datasetsSize,omitempty"`
	// BlockStorageClass is the class for block volumes (redis data). eks mode: "gp3", created by the
	// program (encrypted). existing mode: a class of the cluster; "" means the default class.
	BlockStorageClass string `json:"blockStorageClass,omitempty"`

	// sharedVolumeKeys are the datasets* keys the stack file set (applyDefaults records them).
	sharedVolumeKeys []string
}

// EFS configures the Elastic File System.
type EFS struct {
	// PerformanceMode is generalPurpose (default) or maxIO.
	PerformanceMode string `json:"performanceMode,omitempty"`
	// ThroughputMode is elastic (default), bursting or provisioned.
	ThroughputMode string `json:"throughputMode,omitempty"`
	// ProvisionedThroughputMibps is the throughput with ThroughputMode provisioned, in MiB/s.
	ProvisionedThroughputMibps int `json:"provisionedThroughputMibps,omitempty"`
	// TransitionToIA moves files not read for this long to Infrequent Access. Default AFTER_30_DAYS.
	TransitionToIA string `json:"transitionToIa,omitempty"`
	// Backups turns on EFS's own automatic daily backups (AWS Backup's default plan, 35 days). Default:
	// false when operations.backup is on (its plan covers EFS), true otherwise.
	Backups *bool `json:"backups,omitempty"`
	// Owner is the POSIX user and group ("uid:gid") that owns every dataset file on EFS. Each
	// dynamically provisioned volume is an access point that writes as this identity whatever the
	// container runs as, and an access point's owner cannot change after it exists. Default "0:0":
	// the OpenNeuro images (v3.14.2 and v5.5.1) set no USER and run as root, so git sees its own
	// files and never reports "dubious ownership". Changing it affects new volumes only.
	Owner string `json:"owner,omitempty"`
}

// EFSOwnerRoot is the default EFS owner: the uid:gid the OpenNeuro images run as.
const EFSOwnerRoot = "0:0"

// UIDGID splits Owner into the uid and gid strings the EFS CSI driver takes. Owner is validated.
func (e EFS) UIDGID() (uid, gid string) {
	uid, gid, _ = strings.Cut(e.Owner, ":")
	return uid, gid
}

// Storage class names the program creates in eks mode.
const (
	EFSStorageClass = "efs"
	GP3StorageClass = "gp3"
)

var transitionToIAValues = []string{"AFTER_1_DAY", "AFTER_7_DAYS", "AFTER_14_DAYS", "AFTER_30_DAYS", "AFTER_60_DAYS", "AFTER_90_DAYS", "AFTER_180_DAYS", "AFTER_270_DAYS", "AFTER_365_DAYS"}

func (s *Storage) applyDefaults(c Cluster, ops Operations) {
	// The shared datasets volume's keys the stack file set, before defaults hide it: they only mean
	// something in app.generation 2020.
	s.sharedVolumeKeys = nil
	for path, v := range map[string]string{"storage.datasetsStorageClass": s.DatasetsStorageClass,
		"storage.datasetsAccessMode": s.DatasetsAccessMode, "storage.datasetsSize": s.DatasetsSize} {
		if v != "" {
			s.sharedVolumeKeys = append(s.sharedVolumeKeys, path)
		}
	}
	sort.Strings(s.sharedVolumeKeys)
	if s.ReclaimPolicy == "" {
		s.ReclaimPolicy = "Retain"
	}
	if s.DatasetsAccessMode == "" {
		s.DatasetsAccessMode = "ReadWriteMany"
	}
	if s.DatasetsSize == "" {
		s.DatasetsSize = "100Gi"
	}
	if c.Mode != ModeEKS {
		return
	}
	if s.EFS.PerformanceMode == "" {
		s.EFS.PerformanceMode = "generalPurpose"
	}
	if s.EFS.ThroughputMode == "" {
		s.EFS.ThroughputMode = "elastic"
	}
	if s.EFS.TransitionToIA == "" {
		s.EFS.TransitionToIA = "AFTER_30_DAYS"
	}
	if s.EFS.Backups == nil {
		s.EFS.Backups = boolPtr(!ops.BackupEnabled())
	}
	setDefault(&s.EFS.Owner, EFSOwnerRoot)
	builds, _ := AddonBuildsFor(c.KubernetesVersion)
	setDefault(&s.EFSCSIDriverVersion, builds.EFSCSIDriver)
	setDefault(&s.EBSCSIDriverVersion, builds.EBSCSIDriver)
	if s.DatasetsStorageClass == "" {
		s.DatasetsStorageClass = EFSStorageClass
	}
	if s.BlockStorageClass == "" {
		s.BlockStorageClass = GP3StorageClass
	}
}

func (s Storage) validate(v *validator, c Cluster) {
	v.oneOf("storage.reclaimPolicy", s.ReclaimPolicy, "Retain", "Delete")
	v.oneOf("storage.datasetsAccessMode", s.DatasetsAccessMode, "ReadWriteMany", "ReadWriteOnce")
	v.quantity("storage.datasetsSize", s.DatasetsSize)
	if s.DatasetsStorageClass != "" {
		v.k8sName("storage.datasetsStorageClass", s.DatasetsStorageClass, 253)
	}
	if s.BlockStorageClass != "" {
		v.k8sName("storage.blockStorageClass", s.BlockStorageClass, 253)
	}
	if c.Mode != ModeEKS {
		if s.EFS != (EFS{}) || s.EFSCSIDriverVersion != "" || s.EBSCSIDriverVersion != "" {
			v.addf("storage.efs", "EFS and the EKS CSI add-ons are EKS settings but cluster.mode is existing; remove efs, efsCsiDriverVersion and ebsCsiDriverVersion and set datasetsStorageClass instead")
		}
		return
	}
	if s.DatasetsStorageClass != EFSStorageClass {
		v.addf("storage.datasetsStorageClass", "is %q; in eks mode the program creates the class %q for the datasets volume itself, remove the key", s.DatasetsStorageClass, EFSStorageClass)
	}
	if s.BlockStorageClass != GP3StorageClass {
		v.addf("storage.blockStorageClass", "is %q; in eks mode the program creates the class %q for block volumes itself, remove the key", s.BlockStorageClass, GP3StorageClass)
	}
	if s.DatasetsAccessMode != "ReadWriteMany" {
		v.addf("storage.datasetsAccessMode", "EFS volumes are shared by every worker; use ReadWriteMany in eks mode")
	}
	v.oneOf("storage.efs.performanceMode", s.EFS.PerformanceMode, "generalPurpose", "maxIO")
	v.oneOf("storage.efs.throughputMode", s.EFS.ThroughputMode, "elastic", "bursting", "provisioned")
	if s.EFS.ThroughputMode == "elastic" && s.EFS.PerformanceMode == "maxIO" {
		v.addf("storage.efs.throughputMode", "elastic throughput requires performanceMode generalPurpose; use bursting or provisioned with maxIO")
	}
	if (s.EFS.ThroughputMode == "provisioned") != (s.EFS.ProvisionedThroughputMibps > 0) {
		v.addf("storage.efs.provisionedThroughputMibps", "is %d; set it (1-3414 MiB/s) exactly when throughputMode is provisioned", s.EFS.ProvisionedThroughputMibps)
	}
	v.oneOf("storage.efs.transitionToIa", s.EFS.TransitionToIA, transitionToIAValues...)
	if !validPOSIXOwner(s.EFS.Owner) {
		v.addf("storage.efs.owner", "is %q; write uid:gid with two numbers 0-4294967295, e.g. %q (root, what the OpenNeuro images run as)", s.EFS.Owner, EFSOwnerRoot)
	}
	// Without verified builds for cluster.kubernetesVersion (the cluster layer reports it) there is
	// no default to check.
	if _, ok := AddonBuildsFor(c.KubernetesVersion); ok {
		v.version("storage.efsCsiDriverVersion", s.EFSCSIDriverVersion)
		v.version("storage.ebsCsiDriverVersion", s.EBSCSIDriverVersion)
	}
}

// validPOSIXOwner reports whether owner is "uid:gid" with two 32-bit unsigned decimal ids.
func validPOSIXOwner(owner string) bool {
	uid, gid, ok := strings.Cut(owner, ":")
	if !ok {
		return false
	}
	for _, id := range []string{uid, gid} {
		leadingZero := len(id) > 1 && id[0] == '0'
		if _, err := strconv.ParseUint(id, 10, 32); err != nil || leadingZero {
			return false
		}
	}
	return true
}
