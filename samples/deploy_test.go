package samples

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// The deployment examples are read by users and copied: they must parse,
// run apply unattended, and take credentials from files only.
func TestKubernetesCronJob(t *testing.T) {
	raw, err := os.ReadFile("deploy/kubernetes-cronjob.yaml")
	require.NoError(t, err)
	var job struct {
		Kind string `yaml:"kind"`
		Spec struct {
			ConcurrencyPolicy string `yaml:"concurrencyPolicy"`
			JobTemplate       struct {
				Spec struct {
					Template struct {
						Spec struct {
							Containers []struct {
								Args []string `yaml:"args"`
								Env  []struct {
									Name  string `yaml:"name"`
									Value string `yaml:"value"`
								} `yaml:"env"`
							} `yaml:"containers"`
						} `yaml:"spec"`
					} `yaml:"template"`
				} `yaml:"spec"`
			} `yaml:"jobTemplate"`
		} `yaml:"spec"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &job))
	assert.Equal(t, "CronJob", job.Kind)
	assert.Equal(t, "Forbid", job.Spec.ConcurrencyPolicy)
	c := job.Spec.JobTemplate.Spec.Template.Spec.Containers
	require.Len(t, c, 1)
	assert.Equal(t, []string{"apply", "--yes"}, c[0].Args[:2])
	for _, e := range c[0].Env {
		if strings.Contains(e.Name, "TOKEN") || strings.Contains(e.Name, "KEY") || strings.Contains(e.Name, "SECRET") {
			assert.True(t, strings.HasSuffix(e.Name, "_FILE"), "%s: secrets come from files", e.Name)
		}
	}
}

func TestSystemdUnits(t *testing.T) {
	svc, err := os.ReadFile("deploy/groupsync.service")
	require.NoError(t, err)
	assert.Contains(t, string(svc), "ExecStart=/usr/local/bin/groupsync apply --yes")
	assert.Contains(t, string(svc), "LOX24_TOKEN_FILE=%d/lox24-token")
	timer, err := os.ReadFile("deploy/groupsync.timer")
	require.NoError(t, err)
	assert.Contains(t, string(timer), "OnCalendar=")
}
