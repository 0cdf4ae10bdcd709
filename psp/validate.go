package psp

import (
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validate checks a PodSecurityPolicy as a 1.24 apiserver did on create:
// ValidatePodSecurityPolicy from pkg/apis/policy/validation/validation.go,
// applied to the object after the server's own preparation, which the
// raw manifest never went through:
//
//   - metadata.namespace is cleared (PSPs are cluster-scoped), as are
//     deletionTimestamp, deletionGracePeriodSeconds and managedFields
//     (the field manager rewrites those);
//   - an omitted allowPrivilegeEscalation is defaulted to true
//     (SetDefaults_PodSecurityPolicySpec);
//   - allowedProcMountTypes is dropped because the ProcMountType feature
//     gate is off in 1.24 (DropDisabledFields), so it is not validated.
//
// p itself is not changed.
//
// One deliberate difference from the 1.24 code: error paths name the
// field where it is. 1.24 reported requiredDropCapabilities,
// defaultAddCapabilities and allowedCapabilities without "spec.", and
// "spec.allowedFlexVolumes.allowedFlexVolumes[i].driver" and
// "spec.allowedCSIDrivers.allowedCSIDriver[i].name"; what is rejected is
// the same.
func Validate(p *PodSecurityPolicy) field.ErrorList {
	meta := serverPreparedMeta(p.ObjectMeta)
	metaPath := field.NewPath("metadata")
	var errs field.ErrorList
	errs = append(errs, validatePSPObjectMeta(&meta, metaPath)...)
	errs = append(errs, validatePSPProfileAnnotations(p.Annotations, metaPath.Child("annotations"))...)
	errs = append(errs, validatePSPSpec(&p.Spec, field.NewPath("spec"))...)
	return errs
}

// serverPreparedMeta is the metadata as BeforeCreate left it for
// validation (k8s.io/apiserver/pkg/registry/rest/create.go). A name made
// from generateName gets a placeholder suffix of the same length as the
// server's random one.
func serverPreparedMeta(meta metav1.ObjectMeta) metav1.ObjectMeta {
	meta.Namespace = ""
	meta.DeletionTimestamp = nil
	meta.DeletionGracePeriodSeconds = nil
	meta.ManagedFields = nil
	if meta.Name == "" && meta.GenerateName != "" {
		const maxGeneratedNameLength = validation.DNS1123SubdomainMaxLength - 5
		base := meta.GenerateName
		if len(base) > maxGeneratedNameLength {
			base = base[:maxGeneratedNameLength]
		}
		meta.Name = base + "xxxxx"
	}
	return meta
}

// standardFinalizers are the finalizer names allowed without a domain
// (pkg/apis/core/helper.IsStandardFinalizerName).
var standardFinalizers = []string{"kubernetes", metav1.FinalizerOrphanDependents, metav1.FinalizerDeleteDependents}

// validatePSPObjectMeta is the core ValidateObjectMeta for a cluster-scoped
// object whose name must be a DNS subdomain, with its check that
// finalizers without a domain are standard ones.
func validatePSPObjectMeta(meta *metav1.ObjectMeta, fldPath *field.Path) field.ErrorList {
	errs := apimachineryvalidation.ValidateObjectMeta(meta, false, apimachineryvalidation.NameIsDNSSubdomain, fldPath)
	for i, f := range meta.Finalizers {
		if !strings.Contains(f, "/") && !slices.Contains(standardFinalizers, f) {
			errs = append(errs, field.Invalid(fldPath.Child("finalizers").Index(i), f, "name is neither a standard finalizer name nor is it fully qualified"))
		}
	}
	return errs
}

// validatePSPProfileAnnotations is ValidatePodSecurityPolicySpecificAnnotations:
// every AppArmor and seccomp profile name in the PSP annotations must be
// one a pod could use. Lists are split on commas, so an empty entry (a
// trailing comma) is checked too: AppArmor accepts it, seccomp does not.
func validatePSPProfileAnnotations(annotations map[string]string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if p := annotations[AppArmorDefaultProfileAnnotation]; p != "" {
		if err := validateAppArmorProfileFormat(p); err != nil {
			errs = append(errs, field.Invalid(fldPath.Key(AppArmorDefaultProfileAnnotation), p, err.Error()))
		}
	}
	if allowed := annotations[AppArmorAllowedProfilesAnnotation]; allowed != "" {
		for _, p := range strings.Split(allowed, ",") {
			if err := validateAppArmorProfileFormat(p); err != nil {
				errs = append(errs, field.Invalid(fldPath.Key(AppArmorAllowedProfilesAnnotation), allowed, err.Error()))
			}
		}
	}
	if p := annotations[SeccompDefaultProfileAnnotation]; p != "" {
		errs = append(errs, validateSeccompProfile(p, fldPath.Key(SeccompDefaultProfileAnnotation))...)
	}
	if allowed := annotations[SeccompAllowedProfilesAnnotation]; allowed != "" {
		for _, p := range strings.Split(allowed, ",") {
			if p == AllowAllProfiles {
				continue
			}
			errs = append(errs, validateSeccompProfile(p, fldPath.Key(SeccompAllowedProfilesAnnotation))...)
		}
	}
	return errs
}

// validateAppArmorProfileFormat is core ValidateAppArmorProfileFormat.
func validateAppArmorProfileFormat(profile string) error {
	if profile == "" || profile == AppArmorProfileRuntimeDefault || profile == AppArmorProfileNameUnconfined {
		return nil
	}
	if !strings.HasPrefix(profile, AppArmorLocalhostPrefix) {
		return fmt.Errorf("invalid AppArmor profile name: %q", profile)
	}
	return nil
}

// validateSeccompProfile is core ValidateSeccompProfile.
func validateSeccompProfile(p string, fldPath *field.Path) field.ErrorList {
	switch {
	case p == SeccompProfileRuntimeDefault, p == SeccompProfileDockerDefault, p == SeccompProfileNameUnconfined:
		return nil
	case strings.HasPrefix(p, SeccompLocalhostProfilePrefix):
		return validateLocalDescendingPath(strings.TrimPrefix(p, SeccompLocalhostProfilePrefix), fldPath)
	}
	return field.ErrorList{field.Invalid(fldPath, p, "must be a valid seccomp profile")}
}

func validateLocalDescendingPath(targetPath string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if path.IsAbs(targetPath) {
		errs = append(errs, field.Invalid(fldPath, targetPath, "must be a relative path"))
	}
	if hasBackstep(targetPath) {
		errs = append(errs, field.Invalid(fldPath, targetPath, "must not contain '..'"))
	}
	return errs
}

func hasBackstep(p string) bool {
	return slices.Contains(strings.Split(filepath.ToSlash(p), "/"), "..")
}

// validatePSPSpec is ValidatePodSecurityPolicySpec, in its order.
func validatePSPSpec(spec *PodSecurityPolicySpec, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validatePSPRunAsUser(fldPath.Child("runAsUser"), &spec.RunAsUser)...)
	errs = append(errs, validatePSPRunAsGroup(fldPath.Child("runAsGroup"), spec.RunAsGroup)...)
	errs = append(errs, validatePSPSELinux(fldPath.Child("seLinux"), &spec.SELinux)...)
	errs = append(errs, validatePSPGroupRule(fldPath.Child("supplementalGroups"), string(spec.SupplementalGroups.Rule), spec.SupplementalGroups.Ranges)...)
	errs = append(errs, validatePSPGroupRule(fldPath.Child("fsGroup"), string(spec.FSGroup.Rule), spec.FSGroup.Ranges)...)
	errs = append(errs, validatePSPVolumes(fldPath.Child("volumes"), spec.Volumes)...)
	if len(spec.RequiredDropCapabilities) > 0 && slices.Contains(spec.AllowedCapabilities, AllowAllCapabilities) {
		errs = append(errs, field.Invalid(fldPath.Child("requiredDropCapabilities"), spec.RequiredDropCapabilities,
			"must be empty when all capabilities are allowed by a wildcard"))
	}
	errs = append(errs, validatePSPCapsAgainstDrops(spec.RequiredDropCapabilities, spec.DefaultAddCapabilities, fldPath.Child("defaultAddCapabilities"))...)
	errs = append(errs, validatePSPCapsAgainstDrops(spec.RequiredDropCapabilities, spec.AllowedCapabilities, fldPath.Child("allowedCapabilities"))...)
	errs = append(errs, validatePSPDefaultAllowPrivilegeEscalation(fldPath.Child("defaultAllowPrivilegeEscalation"), spec.DefaultAllowPrivilegeEscalation, spec.AllowPrivilegeEscalationOrDefault())...)
	// allowedProcMountTypes: dropped before validation in 1.24 (see Validate).
	errs = append(errs, validatePSPAllowedHostPaths(fldPath.Child("allowedHostPaths"), spec.AllowedHostPaths)...)
	errs = append(errs, validatePSPAllowedFlexVolumes(fldPath.Child("allowedFlexVolumes"), spec.AllowedFlexVolumes)...)
	errs = append(errs, validatePSPAllowedCSIDrivers(fldPath.Child("allowedCSIDrivers"), spec.AllowedCSIDrivers)...)
	errs = append(errs, validatePSPSysctls(fldPath.Child("allowedUnsafeSysctls"), spec.AllowedUnsafeSysctls)...)
	errs = append(errs, validatePSPSysctls(fldPath.Child("forbiddenSysctls"), spec.ForbiddenSysctls)...)
	errs = append(errs, validateSysctlListsDoNotOverlap(fldPath.Child("allowedUnsafeSysctls"), fldPath.Child("forbiddenSysctls"), spec.AllowedUnsafeSysctls, spec.ForbiddenSysctls)...)
	errs = append(errs, validateRuntimeClassStrategy(fldPath.Child("runtimeClass"), spec.RuntimeClass)...)
	// hostPorts: 1.24 does not validate the ranges (max 65536 is accepted).
	return errs
}

// validatePSPRunAsUser needs a known rule; ranges must be sound but may be
// missing even for MustRunAs: the server accepts that, and only the
// admission plugin then fails to build the strategy (FromDocuments warns about it).
func validatePSPRunAsUser(fldPath *field.Path, opts *RunAsUserStrategyOptions) field.ErrorList {
	var errs field.ErrorList
	rules := []string{string(RunAsUserStrategyMustRunAs), string(RunAsUserStrategyMustRunAsNonRoot), string(RunAsUserStrategyRunAsAny)}
	if !slices.Contains(rules, string(opts.Rule)) {
		errs = append(errs, field.NotSupported(fldPath.Child("rule"), opts.Rule, rules))
	}
	for i, r := range opts.Ranges {
		errs = append(errs, validatePSPIDRange(fldPath.Child("ranges").Index(i), r)...)
	}
	return errs
}

// validatePSPRunAsGroup: runAsGroup is optional, but when present MustRunAs
// and MayRunAs need ranges and RunAsAny must have none.
func validatePSPRunAsGroup(fldPath *field.Path, opts *RunAsGroupStrategyOptions) field.ErrorList {
	if opts == nil {
		return nil
	}
	var errs field.ErrorList
	switch opts.Rule {
	case RunAsGroupStrategyRunAsAny:
		if len(opts.Ranges) != 0 {
			errs = append(errs, field.Invalid(fldPath.Child("ranges"), opts.Ranges, "Ranges must be empty"))
		}
	case RunAsGroupStrategyMustRunAs, RunAsGroupStrategyMayRunAs:
		if len(opts.Ranges) == 0 {
			errs = append(errs, field.Invalid(fldPath.Child("ranges"), opts.Ranges, "must provide at least one range"))
		}
		for i, r := range opts.Ranges {
			errs = append(errs, validatePSPIDRange(fldPath.Child("ranges").Index(i), r)...)
		}
	default:
		rules := []string{string(RunAsGroupStrategyMustRunAs), string(RunAsGroupStrategyRunAsAny), string(RunAsGroupStrategyMayRunAs)}
		errs = append(errs, field.NotSupported(fldPath.Child("rule"), opts.Rule, rules))
	}
	return errs
}

// validatePSPSELinux needs a known rule; seLinuxOptions are not required by
// the server even for MustRunAs (FromDocuments warns about it).
func validatePSPSELinux(fldPath *field.Path, opts *SELinuxStrategyOptions) field.ErrorList {
	rules := []string{string(SELinuxStrategyMustRunAs), string(SELinuxStrategyRunAsAny)}
	if !slices.Contains(rules, string(opts.Rule)) {
		return field.ErrorList{field.NotSupported(fldPath.Child("rule"), opts.Rule, rules)}
	}
	return nil
}

// validatePSPGroupRule checks fsGroup and supplementalGroups, which share
// their rules (MayRunAs, MustRunAs, RunAsAny); ranges may be missing.
func validatePSPGroupRule(fldPath *field.Path, rule string, ranges []IDRange) field.ErrorList {
	var errs field.ErrorList
	rules := []string{string(FSGroupStrategyMayRunAs), string(FSGroupStrategyMustRunAs), string(FSGroupStrategyRunAsAny)}
	if !slices.Contains(rules, rule) {
		errs = append(errs, field.NotSupported(fldPath.Child("rule"), rule, rules))
	}
	for i, r := range ranges {
		errs = append(errs, validatePSPIDRange(fldPath.Child("ranges").Index(i), r)...)
	}
	return errs
}

// validatePSPIDRange: 0 <= min <= max.
func validatePSPIDRange(fldPath *field.Path, r IDRange) field.ErrorList {
	var errs field.ErrorList
	if r.Min < 0 {
		errs = append(errs, field.Invalid(fldPath.Child("min"), r.Min, "min cannot be negative"))
	}
	if r.Max < 0 {
		errs = append(errs, field.Invalid(fldPath.Child("max"), r.Max, "max cannot be negative"))
	}
	if r.Min > r.Max {
		errs = append(errs, field.Invalid(fldPath.Child("min"), r.Min, "min cannot be greater than max"))
	}
	return errs
}

// knownFSTypes are the volume names 1.24 accepted in spec.volumes
// (psputil.GetAllFSTypesAsSet plus "*"), sorted as the server lists them.
var knownFSTypes = func() []string {
	types := []FSType{
		AzureFile, Flocker, FlexVolume, HostPath, EmptyDir, GCEPersistentDisk, AWSElasticBlockStore,
		GitRepo, Secret, NFS, ISCSI, Glusterfs, PersistentVolumeClaim, RBD, Cinder, CephFS,
		DownwardAPI, FC, ConfigMap, VsphereVolume, Quobyte, AzureDisk, PhotonPersistentDisk,
		StorageOS, Projected, PortworxVolume, ScaleIO, CSI, Ephemeral, All,
	}
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = string(t)
	}
	slices.Sort(names)
	return names
}()

func validatePSPVolumes(fldPath *field.Path, volumes []FSType) field.ErrorList {
	var errs field.ErrorList
	for _, v := range volumes {
		if _, found := slices.BinarySearch(knownFSTypes, string(v)); !found {
			errs = append(errs, field.NotSupported(fldPath, v, knownFSTypes))
		}
	}
	return errs
}

// validatePSPCapsAgainstDrops: a capability may not be both required to be
// dropped and added by default or allowed.
func validatePSPCapsAgainstDrops(requiredDrops, capsToCheck []corev1.Capability, fldPath *field.Path) field.ErrorList {
	if requiredDrops == nil {
		return nil
	}
	var errs field.ErrorList
	for _, c := range capsToCheck {
		if slices.Contains(requiredDrops, c) {
			errs = append(errs, field.Invalid(fldPath, c,
				fmt.Sprintf("capability is listed in %s and requiredDropCapabilities", fldPath.String())))
		}
	}
	return errs
}

func validatePSPDefaultAllowPrivilegeEscalation(fldPath *field.Path, defaultAllow *bool, allow bool) field.ErrorList {
	if defaultAllow != nil && *defaultAllow && !allow {
		return field.ErrorList{field.Invalid(fldPath, *defaultAllow,
			"Cannot set DefaultAllowPrivilegeEscalation to true without also setting AllowPrivilegeEscalation to true")}
	}
	return nil
}

// validatePSPAllowedHostPaths: every prefix is required and has no "..".
// 1.24 stops at the first empty prefix.
func validatePSPAllowedHostPaths(fldPath *field.Path, paths []AllowedHostPath) field.ErrorList {
	var errs field.ErrorList
	for i, p := range paths {
		if p.PathPrefix == "" {
			errs = append(errs, field.Required(fldPath.Index(i), "is required"))
			break
		}
		if hasBackstep(p.PathPrefix) {
			errs = append(errs, field.Invalid(fldPath.Index(i), p.PathPrefix, "must not contain '..'"))
		}
	}
	return errs
}

func validatePSPAllowedFlexVolumes(fldPath *field.Path, flexVolumes []AllowedFlexVolume) field.ErrorList {
	var errs field.ErrorList
	for i, fv := range flexVolumes {
		if fv.Driver == "" {
			errs = append(errs, field.Required(fldPath.Index(i).Child("driver"), "must specify a driver"))
		}
	}
	return errs
}

func validatePSPAllowedCSIDrivers(fldPath *field.Path, drivers []AllowedCSIDriver) field.ErrorList {
	var errs field.ErrorList
	for i, d := range drivers {
		errs = append(errs, validateCSIDriverName(d.Name, fldPath.Index(i).Child("name"))...)
	}
	return errs
}

// validateCSIDriverName is core ValidateCSIDriverName: required, at most
// 63 characters, a DNS subdomain once lowercased.
func validateCSIDriverName(name string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(fldPath, ""))
	}
	if len(name) > 63 {
		errs = append(errs, field.TooLong(fldPath, name, 63))
	}
	for _, msg := range validation.IsDNS1123Subdomain(strings.ToLower(name)) {
		errs = append(errs, field.Invalid(fldPath, name, msg))
	}
	return errs
}

// Sysctl name patterns (core validation SysctlSegmentFmt and policy
// validation SysctlPatternFmt): dot-separated lowercase segments, the last
// of which may end in "*".
const (
	sysctlSegmentFmt        = "[a-z0-9]([-_a-z0-9]*[a-z0-9])?"
	sysctlPatternSegmentFmt = "([a-z0-9][-_a-z0-9]*)?[a-z0-9*]"
	sysctlPatternFmt        = "(" + sysctlSegmentFmt + "\\.)*" + sysctlPatternSegmentFmt
	sysctlMaxLength         = 253
)

var sysctlPatternRegexp = regexp.MustCompile("^" + sysctlPatternFmt + "$")

func isValidSysctlPattern(name string) bool {
	return len(name) <= sysctlMaxLength && sysctlPatternRegexp.MatchString(name)
}

// validatePSPSysctls: every entry a valid pattern, and "*" alone.
func validatePSPSysctls(fldPath *field.Path, sysctls []string) field.ErrorList {
	var errs field.ErrorList
	coversAll := false
	for i, s := range sysctls {
		switch {
		case s == "":
			errs = append(errs, field.Invalid(fldPath.Index(i), s, "empty sysctl not allowed"))
		case !isValidSysctlPattern(s):
			errs = append(errs, field.Invalid(fldPath.Index(i), s,
				fmt.Sprintf("must have at most %d characters and match regex %s", sysctlMaxLength, sysctlPatternFmt)))
		case s[0] == '*':
			coversAll = true
		}
	}
	if coversAll && len(sysctls) > 1 {
		errs = append(errs, field.Forbidden(fldPath.Child("items"), "if '*' is present, must not specify other sysctls"))
	}
	return errs
}

// validateSysctlListsDoNotOverlap: no sysctl may be both allowed and
// forbidden, prefix patterns ("kernel.*") included.
func validateSysctlListsDoNotOverlap(allowedPath, forbiddenPath *field.Path, allowed, forbidden []string) field.ErrorList {
	var errs field.ErrorList
	for i, a := range allowed {
		aPrefix, aIsPattern := strings.CutSuffix(a, "*")
		for j, f := range forbidden {
			fPrefix, fIsPattern := strings.CutSuffix(f, "*")
			overlapAllowed := field.Invalid(allowedPath.Index(i), a, fmt.Sprintf("sysctl overlaps with %v", f))
			overlapForbidden := field.Invalid(forbiddenPath.Index(j), f, fmt.Sprintf("sysctl overlaps with %v", a))
			switch {
			case aIsPattern && fIsPattern:
				if strings.HasPrefix(aPrefix, fPrefix) {
					errs = append(errs, overlapAllowed)
				} else if strings.HasPrefix(fPrefix, aPrefix) {
					errs = append(errs, overlapForbidden)
				}
			case aIsPattern:
				if strings.HasPrefix(f, aPrefix) {
					errs = append(errs, overlapForbidden)
				}
			case fIsPattern:
				if strings.HasPrefix(a, fPrefix) {
					errs = append(errs, overlapAllowed)
				}
			case a == f:
				errs = append(errs, overlapAllowed)
			}
		}
	}
	return errs
}

// validateRuntimeClassStrategy: names are DNS subdomains, no duplicates,
// "*" alone, and the default must be allowed.
func validateRuntimeClassStrategy(fldPath *field.Path, rc *RuntimeClassStrategyOptions) field.ErrorList {
	if rc == nil {
		return nil
	}
	var errs field.ErrorList
	allowedPath := fldPath.Child("allowedRuntimeClassNames")
	allowed := map[string]bool{}
	for i, name := range rc.AllowedRuntimeClassNames {
		if name != AllowAllRuntimeClassNames {
			errs = append(errs, validateRuntimeClassName(name, allowedPath.Index(i))...)
		}
		if allowed[name] {
			errs = append(errs, field.Duplicate(allowedPath.Index(i), name))
		}
		allowed[name] = true
	}
	if rc.DefaultRuntimeClassName != nil {
		name := *rc.DefaultRuntimeClassName
		errs = append(errs, validateRuntimeClassName(name, fldPath.Child("defaultRuntimeClassName"))...)
		if !allowed[name] && !allowed[AllowAllRuntimeClassNames] {
			errs = append(errs, field.Required(allowedPath, fmt.Sprintf("default %q must be allowed", name)))
		}
	}
	if allowed[AllowAllRuntimeClassNames] && len(rc.AllowedRuntimeClassNames) > 1 {
		errs = append(errs, field.Invalid(allowedPath, rc.AllowedRuntimeClassNames, "if '*' is present, must not specify other RuntimeClass names"))
	}
	return errs
}

func validateRuntimeClassName(name string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(name, false) {
		errs = append(errs, field.Invalid(fldPath, name, msg))
	}
	return errs
}
