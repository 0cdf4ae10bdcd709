package convert

import "testing"

func TestRuleVolumes(t *testing.T) {
	runRuleCases(t, "volumes", []ruleCase{
		{
			name:  "volumes core types are restricted and forbidding csi and ephemeral is a gap",
			level: "restricted",
			gaps:  []string{"volumes"},
		},
		{
			name:  "volumes the restricted list is restricted without a gap",
			patch: `spec: {volumes: [configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret]}`,
			level: "restricted",
			gaps:  []string{},
		},
		{
			name:     "volumes with nfs is baseline",
			patch:    `spec: {volumes: [configMap, secret, nfs]}`,
			level:    "baseline",
			findings: []string{"volumes@restricted: restrictedVolumes"},
			messages: []string{"volumes allows nfs; restricted allows only configMap, csi"},
		},
		{
			name:     "volumes with hostPath is privileged",
			patch:    `spec: {volumes: [configMap, secret, hostPath]}`,
			level:    "privileged",
			findings: []string{"volumes@baseline: hostPathVolumes"},
			messages: []string{"volumes allows hostPath; baseline forbids hostPath volumes"},
		},
		{
			name:     "volumes * is privileged",
			patch:    `spec: {volumes: ["*"]}`,
			level:    "privileged",
			findings: []string{"volumes@baseline: hostPathVolumes"},
			messages: []string{"volumes allows every type (*)"},
			gaps:     []string{},
		},
		{
			name:     "volumes of the docs' baseline PSP are baseline and forbidding ephemeral is a gap",
			patch:    `spec: {volumes: [configMap, emptyDir, projected, secret, downwardAPI, persistentVolumeClaim, awsElasticBlockStore, azureDisk, azureFile, cephFS, cinder, csi, fc, flexVolume, flocker, gcePersistentDisk, gitRepo, glusterfs, iscsi, nfs, photonPersistentDisk, portworxVolume, quobyte, rbd, scaleIO, storageos, vsphereVolume]}`,
			level:    "baseline",
			findings: []string{"volumes@restricted: restrictedVolumes"},
			gaps:     []string{"volumes"},
		},
	})
}
